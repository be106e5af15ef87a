"""Matter forms: parsing only; rules live in matters.services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from caseledger.clients.models import Beneficiary, Client
from caseledger.core.choices import Role
from caseledger.core.forms import MoneyField
from caseledger.core.models import User
from caseledger.matters.choices import (
    BeneficiaryLocation,
    BeneficiaryRule,
    BudgetKind,
    DeadlineKind,
    DocumentKind,
    MatterStatus,
    TeamRole,
)
from caseledger.matters.documents import MAX_DOCUMENT_BYTES
from caseledger.matters.models import CaseType, Matter, Stage

DATE = forms.DateInput(attrs={"type": "date"})


def _people(*roles: str) -> Any:
    return User.objects.filter(role__in=roles, is_active=True).order_by(
        "last_name", "first_name", "id"
    )


CASE_TYPE_REQUIRED = "Case type: required; choose one (none is chosen for you)."


class MatterForm(forms.Form):
    # Starts blank and is required: a forgotten choice must not open a Consultation silently.
    case_type = forms.ModelChoiceField(
        queryset=CaseType.objects.none(),
        empty_label="— choose a case type —",
        error_messages={"required": CASE_TYPE_REQUIRED},
    )
    beneficiary = forms.ModelChoiceField(
        queryset=Beneficiary.objects.none(),
        required=False,
        empty_label="— none (the client is the beneficiary) —",
        help_text="Employment and family petitions are for a beneficiary of this client.",
    )
    title = forms.CharField(
        required=False, max_length=200, help_text="Leave blank for “case type — beneficiary”."
    )
    responsible_partner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="— client's partner —"
    )
    attorney = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="— none —"
    )
    paralegal = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="— none —"
    )
    priority_date = forms.DateField(required=False, widget=DATE)
    office = forms.CharField(
        required=False, max_length=60, help_text="The firm office that runs the matter."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    beneficiary_location = forms.ChoiceField(
        required=False,
        label="Beneficiary at filing (H-1B)",
        choices=[("", "— not an H-1B petition / not known —"), *BeneficiaryLocation.choices],
        help_text="Outside the U.S. without a valid H-1B visa, or with consular or "
        "port-of-entry notification: the $100,000 proclamation payment is added to drafts "
        "filed before its stated expiry (Sept. 21, 2026) or an extension recorded in the fee "
        "schedule.",
    )
    employer_prior_extensions = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=20,
        label="Extensions this employer already obtained for the beneficiary",
        help_text="1 or more: this petition is a second or later extension by the same "
        "employer, and no ACWIA fee is due (INA 214(c)(9)(A)(ii)).",
    )

    def __init__(self, *args: Any, client: Client, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case_type"].queryset = CaseType.objects.filter(  # type: ignore[attr-defined]
            is_active=True
        ).order_by("position", "name", "id")
        self.fields["beneficiary"].queryset = client.beneficiaries.order_by("name", "id")  # type: ignore[attr-defined]
        self.fields["responsible_partner"].queryset = _people(Role.PARTNER)  # type: ignore[attr-defined]
        self.fields["attorney"].queryset = _people(Role.ATTORNEY, Role.PARTNER)  # type: ignore[attr-defined]
        self.fields["paralegal"].queryset = _people(Role.PARALEGAL)  # type: ignore[attr-defined]
        if editing:
            self.fields.pop("case_type")


class MatterFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Name, receipt or A-number"}),
    )
    attorney = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Any"
    )
    partner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Any"
    )
    case_type = forms.ModelChoiceField(
        queryset=CaseType.objects.none(), required=False, empty_label="Any"
    )
    stage = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *MatterStatus.choices])
    deadline_within = forms.IntegerField(
        label="Deadline within (days)", required=False, min_value=0, max_value=3650
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attorney"].queryset = _people(Role.ATTORNEY, Role.PARTNER)  # type: ignore[attr-defined]
        self.fields["partner"].queryset = _people(Role.PARTNER)  # type: ignore[attr-defined]
        self.fields["case_type"].queryset = CaseType.objects.order_by("position", "id")  # type: ignore[attr-defined]
        seen: dict[str, str] = {}
        for code, name in Stage.objects.order_by("position", "id").values_list("code", "name"):
            seen.setdefault(code, name)
        self.fields["stage"].choices = [("", "Any"), *sorted(seen.items(), key=lambda i: i[1])]  # type: ignore[attr-defined]


class AdvanceForm(forms.Form):
    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), empty_label=None, label="Move to")
    allow_skip = forms.BooleanField(required=False, label="Skip the stages in between")
    override_reason = forms.CharField(
        required=False,
        max_length=300,
        label="Override the hold: reason",
        help_text="Partners only; recorded in the audit log.",
    )
    note = forms.CharField(required=False, max_length=300)

    def __init__(
        self,
        *args: Any,
        matter: Matter,
        can_skip: bool,
        can_override: bool,
        stages: Sequence[Stage] | None = None,
        **kwargs: Any,
    ) -> None:
        """``stages``: the stages it offers (``selectors.stages_ahead``) when the page has them
        loaded; the select is drawn from them instead of a query of its own. A submitted stage
        is checked against the database either way."""
        super().__init__(*args, **kwargs)
        qs = matter.case_type.stages.order_by("position", "id")
        if matter.current_stage_id:
            qs = qs.filter(position__gt=matter.current_stage.position)  # type: ignore[union-attr]
        field = self.fields["stage"]
        field.queryset = qs  # type: ignore[attr-defined]
        if stages is not None:
            field.choices = [(stage.pk, field.label_from_instance(stage)) for stage in stages]  # type: ignore[attr-defined]
        if not can_skip:
            self.fields.pop("allow_skip")
        if not (can_override and matter.hold_new_work):
            self.fields.pop("override_reason")


class BudgetForm(forms.Form):
    budget_kind = forms.ChoiceField(
        label="Agreed",
        choices=[("", "— no budget —"), *BudgetKind.choices],
        required=False,
    )
    budget = MoneyField(
        label="Amount",
        name="budget",
        negative=False,
        ceiling=False,
        required=False,
        help_text="The engagement's flat fee, or the estimate.",
    )
    reason = forms.CharField(
        max_length=300, help_text="Why it is set or changed (kept in the budget history)."
    )


class HoldForm(forms.Form):
    reason = forms.CharField(max_length=300)


class ReceiptForm(forms.Form):
    number = forms.CharField(label="Receipt number", max_length=20)
    form = forms.CharField(label="Form", required=False, max_length=20)
    received_date = forms.DateField(required=False, widget=DATE)


class DocumentForm(forms.Form):
    """A document for the matter's file; the service checks the file (type, size, name)."""

    title = forms.CharField(
        max_length=200, help_text="What the client will see, e.g. I-797 approval notice."
    )
    kind = forms.ChoiceField(choices=DocumentKind.choices)
    file = forms.FileField(
        help_text=f"PDF, PNG or JPEG, at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
    share = forms.BooleanField(required=False, label="Share with the client now")


class DeadlineForm(forms.Form):
    kind = forms.ChoiceField(choices=DeadlineKind.choices)
    due_date = forms.DateField(widget=DATE)
    description = forms.CharField(required=False, max_length=200)


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200)
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="— a role —"
    )
    assignee_role = forms.ChoiceField(
        required=False, label="or role", choices=[("", "—"), *Role.choices[:-1]]
    )
    due_date = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = User.objects.exclude(role=Role.CLIENT).filter(is_active=True)
        self.fields["assignee"].queryset = staff.order_by(  # type: ignore[attr-defined]
            "last_name", "first_name", "id"
        )


class CaseTypeForm(forms.Form):
    code = forms.CharField(max_length=40, help_text="Lower snake case, e.g. h1b_cap.")
    name = forms.CharField(max_length=120)
    form = forms.CharField(required=False, max_length=40, label="Government form")
    employment_based = forms.BooleanField(
        required=False, help_text="Refused for a private individual as petitioner."
    )
    beneficiary_rule = forms.ChoiceField(choices=BeneficiaryRule.choices)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_active = forms.BooleanField(required=False, initial=True, label="Offered for new matters")


class StageRowForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    order = forms.IntegerField(required=False, min_value=0, max_value=999)
    code = forms.CharField(required=False, max_length=40)
    name = forms.CharField(required=False, max_length=120)
    optional = forms.BooleanField(required=False)
    closes_matter = forms.BooleanField(required=False)
    remove = forms.BooleanField(required=False)


StageFormSet = forms.formset_factory(StageRowForm, extra=3)


class DeadlineRuleForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput)
    lead_days = forms.IntegerField(min_value=0, max_value=365)
    assign_to = forms.ChoiceField(choices=TeamRole.choices)


DeadlineRuleFormSet = forms.formset_factory(DeadlineRuleForm, extra=0)
