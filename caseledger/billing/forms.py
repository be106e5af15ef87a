"""Input forms: they parse and present; the services decide (and word the refusals)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q

from caseledger.billing import hooks, utbms
from caseledger.billing.choices import (
    Cadence,
    ExpenseKind,
    FeeAdvanceMethod,
    FeeCategory,
    FeePath,
    FeeType,
    FilingMethod,
    InvoiceStatus,
    LineKind,
    Payer,
    TaxMode,
    TimeRounding,
)
from caseledger.billing.models import BillingSettings, InvoiceTemplate, Service
from caseledger.clients.models import Client
from caseledger.clients.pickers import ClientPickerField, PickerFormMixin
from caseledger.core.choices import Role
from caseledger.core.forms import OneTimeTokenMixin
from caseledger.core.models import User
from caseledger.matters.models import CaseType, Matter, Stage
from caseledger.matters.pickers import MatterPickerField


class CodeSelect(forms.ChoiceField):
    """A select of UTBMS codes. Membership is the service's rule (billing.utbms), so a value
    outside the list reaches the service and is refused there, with its message."""

    def valid_value(self, value: Any) -> bool:
        return True


def _task_field(**kwargs: Any) -> CodeSelect:
    kwargs.setdefault(
        "help_text", "UTBMS task (the phase is implied). Required for clients billed in LEDES."
    )
    return CodeSelect(
        label="Task code",
        choices=[("", "— none —"), *utbms.task_choices()],
        required=False,
        **kwargs,
    )


def _activity_field(*, optional: bool = False, **kwargs: Any) -> CodeSelect:
    none = [("", "— none —")] if optional else []
    kwargs.setdefault("help_text", "UTBMS activity")
    return CodeSelect(
        label="Activity code",
        choices=[*none, *utbms.activity_choices()],
        required=not optional,
        **kwargs,
    )


def _expense_field(*, optional: bool = False, **kwargs: Any) -> CodeSelect:
    none = [("", "— none —")] if optional else []
    kwargs.setdefault("help_text", "UTBMS expense")
    return CodeSelect(
        label="Expense code",
        choices=[*none, *utbms.expense_choices()],
        required=not optional,
        **kwargs,
    )


def _matters_for(user: Any) -> Any:
    from caseledger.matters.selectors import matters_visible_to

    return matters_visible_to(user).select_related("client").order_by("number", "id")


# The PDF prints the payment terms from the invoice's dates ("Net 30: payment is due by ...");
# the text here follows them, so it must not state a different timing.
TERMS_HELP = (
    'Printed under the payment terms, which come from the due date (e.g. "Net 30"); '
    "do not repeat when payment is due here."
)


class TimeEntryForm(OneTimeTokenMixin, PickerFormMixin, forms.Form):
    matter = MatterPickerField(queryset=Matter.objects.none())
    work_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.CharField(max_length=12, help_text="In the firm's increment, e.g. 1.5")
    activity_code = _activity_field(initial="A103")
    task_code = _task_field()
    narrative = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    billable = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["matter"].queryset = _matters_for(user)  # type: ignore[attr-defined]


class ExpenseForm(OneTimeTokenMixin, PickerFormMixin, forms.Form):
    matter = MatterPickerField(queryset=Matter.objects.none())
    kind = forms.ChoiceField(choices=ExpenseKind.choices)
    expense_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(max_length=300)
    amount = forms.CharField(max_length=20, help_text="e.g. 780.00")
    expense_code = _expense_field(initial="E101")
    billable = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["matter"].queryset = _matters_for(user)  # type: ignore[attr-defined]


class TimeEntryEditForm(forms.Form):
    """Correct an unbilled time entry (its matter stays: record it anew on another matter)."""

    work_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.CharField(max_length=12, help_text="In the firm's increment, e.g. 1.5")
    activity_code = _activity_field()
    task_code = _task_field()
    narrative = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    billable = forms.BooleanField(required=False)


class ExpenseEditForm(forms.Form):
    """Correct an unbilled expense or cost advance (its matter stays)."""

    kind = forms.ChoiceField(choices=ExpenseKind.choices)
    expense_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(max_length=300)
    amount = forms.CharField(max_length=20, help_text="e.g. 780.00")
    expense_code = _expense_field()
    billable = forms.BooleanField(required=False)


class InvoiceFilterForm(PickerFormMixin, forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *InvoiceStatus.choices], required=False)
    # Choices from the payments app (billing.hooks.invoice_payment_states), set in __init__.
    payment_state = forms.ChoiceField(choices=[], required=False, label="Payment")
    # A server-side search (type, Find, choose): the drop-down never lists every client.
    client = ClientPickerField(
        queryset=Client.objects.none(), required=False, empty_label="Any client"
    )
    partner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Any partner"
    )
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payment_state"].choices = [  # type: ignore[attr-defined]
            ("", "Any payment state"),
            *hooks.invoice_payment_states(),
        ]
        self.fields["client"].queryset = Client.objects.order_by("name", "id")  # type: ignore[attr-defined]
        self.fields["partner"].queryset = User.objects.filter(role=Role.PARTNER).order_by(  # type: ignore[attr-defined]
            "last_name", "id"
        )


class LineForm(forms.Form):
    description = forms.CharField(max_length=300)
    kind = forms.ChoiceField(choices=LineKind.choices, initial=LineKind.FEE)
    category = forms.ChoiceField(choices=FeeCategory.choices, initial=FeeCategory.ATTORNEY_FEE)
    quantity = forms.CharField(max_length=12, initial="1")
    unit_price = forms.CharField(max_length=20)
    # Codes from the shipped UTBMS sets (billing.utbms); the service refuses any other value
    # with a message naming the field.
    task_code = _task_field()
    activity_code = _activity_field(optional=True, help_text="UTBMS activity (time and fees)")
    expense_code = _expense_field(optional=True, help_text="UTBMS expense (costs and fees)")


class LineEditForm(forms.Form):
    """A line of a draft edited in its row (the inputs belong to the form ``line-edit``)."""

    # Not required here: the service refuses an empty value with a message naming the field.
    description = forms.CharField(
        max_length=300,
        required=False,
        widget=forms.TextInput(
            attrs={"form": "line-edit", "size": 24, "aria-label": "Description"}
        ),
    )
    quantity = forms.CharField(
        max_length=12,
        required=False,
        label="Qty / hrs",
        widget=forms.TextInput(
            attrs={
                "form": "line-edit",
                "size": 6,
                "inputmode": "decimal",
                "aria-label": "Quantity or hours",
            }
        ),
    )
    unit_price = forms.CharField(
        max_length=20,
        required=False,
        label="Rate",
        widget=forms.TextInput(
            attrs={"form": "line-edit", "size": 8, "inputmode": "decimal", "aria-label": "Rate"}
        ),
    )


class CommentForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300)


class DraftForm(PickerFormMixin, forms.Form):
    matter = MatterPickerField(queryset=Matter.objects.none())
    bill_to = forms.ChoiceField(choices=Payer.choices)
    template = forms.ModelChoiceField(
        queryset=InvoiceTemplate.objects.filter(active=True).order_by("name", "id"),
        required=False,
        empty_label="(blank draft)",
    )
    include_unbilled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["matter"].queryset = _matters_for(user)  # type: ignore[attr-defined]


class ServiceForm(forms.Form):
    code = forms.CharField(max_length=32)
    name = forms.CharField(max_length=120)
    fee_type = forms.ChoiceField(choices=FeeType.choices)
    default_price = forms.CharField(max_length=20)
    utbms_task_code = _task_field(
        help_text="UTBMS task its lines carry (the phase is implied); needed for LEDES clients."
    )
    utbms_activity_code = _activity_field(optional=True)


class GovernmentFeeForm(forms.Form):
    case_type = forms.ModelChoiceField(queryset=CaseType.objects.none())
    code = forms.CharField(max_length=32)
    name = forms.CharField(max_length=120)
    amount = forms.CharField(max_length=20)
    effective_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    category = forms.ChoiceField(
        choices=FeeCategory.choices, initial=FeeCategory.REQUIRED_GOVERNMENT_FEE
    )
    expense_code = _expense_field(
        initial=utbms.FILING_FEE_EXPENSE_CODE,
        help_text=f"UTBMS expense; filing fees are {utbms.FILING_FEE_EXPENSE_CODE}",
    )
    citation = forms.CharField(
        max_length=600,
        required=False,
        help_text="The rule that sets the fee; required to extend a fee past its stated expiry "
        "(the extending proclamation or rule)",
    )
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Only when the instrument states an end (no fee from this date)",
    )
    expiry_citation = forms.CharField(max_length=600, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case_type"].queryset = CaseType.objects.order_by("name", "id")  # type: ignore[attr-defined]


class RateForm(PickerFormMixin, forms.Form):
    timekeeper = forms.ModelChoiceField(queryset=User.objects.none())
    rate = forms.CharField(max_length=20, help_text="Per hour, e.g. 450.00")
    client = ClientPickerField(
        queryset=Client.objects.none(), required=False, empty_label="(default rate)"
    )
    matter = MatterPickerField(
        queryset=Matter.objects.none(),
        required=False,
        empty_label="(no matter override)",
        narrow_field="client",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timekeeper"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role__in=[Role.PARTNER, Role.ATTORNEY, Role.PARALEGAL], is_active=True
        ).order_by("last_name", "id")
        self.fields["client"].queryset = Client.objects.order_by("name", "id")  # type: ignore[attr-defined]
        self.fields["matter"].queryset = _matters_for(user)  # type: ignore[attr-defined]


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=120)
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    bill_to = forms.ChoiceField(choices=Payer.choices)
    line_description = forms.CharField(
        max_length=300, required=False, help_text="The fee line; leave empty for hourly work only"
    )
    line_category = forms.ChoiceField(
        choices=FeeCategory.choices, initial=FeeCategory.ATTORNEY_FEE, label="Line category"
    )
    line_amount = forms.CharField(
        max_length=20, required=False, help_text="Empty: the service's default price"
    )
    government_fee_codes = forms.CharField(
        max_length=200, required=False, help_text="Comma-separated, e.g. I129, ACWIA, FRAUD"
    )
    include_unbilled = forms.BooleanField(required=False, label="Add the matter's unbilled work")
    terms = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text=TERMS_HELP
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True).order_by(  # type: ignore[attr-defined]
            "name", "id"
        )


class TemplateEditForm(forms.Form):
    name = forms.CharField(max_length=120, required=False)
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    bill_to = forms.ChoiceField(choices=Payer.choices)
    government_fee_codes = forms.CharField(
        max_length=200,
        required=False,
        help_text="Comma-separated, added at the amount in force on the draft date",
    )
    installments = forms.IntegerField(initial=1, help_text="More than 1: a payment plan")
    payment_terms_days = forms.IntegerField(
        required=False, label="Payment terms (days)", help_text="Empty: the client's terms"
    )
    include_unbilled = forms.BooleanField(required=False, label="Add the matter's unbilled work")
    terms = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text=TERMS_HELP
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    active = forms.BooleanField(
        required=False, label="Active", help_text="Inactive: not offered for new drafts or triggers"
    )

    def __init__(self, *args: Any, template: InvoiceTemplate, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # active services, and the template's own even if it has since been retired
        self.fields["service"].queryset = Service.objects.filter(  # type: ignore[attr-defined]
            Q(active=True) | Q(pk=template.service_id)
        ).order_by("name", "id")


class TemplateLineForm(forms.Form):
    """A fee line of a template; a row without a description is ignored."""

    description = forms.CharField(max_length=300, required=False)
    kind = forms.ChoiceField(choices=LineKind.choices, initial=LineKind.FEE)
    category = forms.ChoiceField(
        choices=FeeCategory.choices, initial=FeeCategory.ATTORNEY_FEE, label="Payer category"
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), required=False, empty_label="(template's service)"
    )
    amount = forms.CharField(
        max_length=20, required=False, help_text="Empty: the service's default price"
    )
    remove = forms.BooleanField(required=False, label="Remove this line")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.order_by("name", "id")  # type: ignore[attr-defined]


TemplateLineFormSet = forms.formset_factory(TemplateLineForm, extra=2)


class TriggerForm(forms.Form):
    case_type = forms.ModelChoiceField(queryset=CaseType.objects.none())
    template = forms.ModelChoiceField(
        queryset=InvoiceTemplate.objects.filter(active=True).order_by("name", "id")
    )
    kind = forms.ChoiceField(choices=[("STAGE", "Stage reached"), ("CADENCE", "Cadence")])
    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), required=False)
    cadence = forms.ChoiceField(choices=[("", "—"), *Cadence.choices], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case_type"].queryset = CaseType.objects.order_by("name", "id")  # type: ignore[attr-defined]
        self.fields["stage"].queryset = Stage.objects.select_related("case_type").order_by(  # type: ignore[attr-defined]
            "case_type__name", "position", "id"
        )
        self.fields["stage"].label_from_instance = lambda s: f"{s.case_type.name} · {s.name}"  # type: ignore[attr-defined]


class SettingsForm(forms.ModelForm):
    class Meta:
        model = BillingSettings
        fields = [
            "time_increment_minutes",
            "time_rounding",
            "tax_mode",
            "tax_rate_bp",
            "forbid_self_approval",
            "default_terms",
        ]
        widgets = {"default_terms": forms.Textarea(attrs={"rows": 3})}


__all__ = [
    "CommentForm",
    "DraftForm",
    "ExpenseForm",
    "GovernmentFeeForm",
    "InvoiceFilterForm",
    "LineEditForm",
    "LineForm",
    "RateForm",
    "ReasonForm",
    "ServiceForm",
    "SettingsForm",
    "TemplateEditForm",
    "TemplateLineForm",
    "TemplateLineFormSet",
    "TaxMode",
    "TimeEntryForm",
    "TimeRounding",
    "TriggerForm",
]


class LedesExportForm(forms.Form):
    """A client billed in LEDES and a period: one 1998B file with its issued invoices."""

    client = forms.ModelChoiceField(queryset=Client.objects.none(), empty_label="— choose —")
    start = forms.DateField(label="Issued from", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="Issued to", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        from caseledger.clients.selectors import clients_visible_to

        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = (  # type: ignore[attr-defined]
            clients_visible_to(user).filter(ledes_required=True).order_by("name", "id")
        )


class LedesImportForm(forms.Form):
    """A LEDES 1998B file to read (a preview: nothing is written)."""

    file = forms.FileField(label="LEDES 1998B file", required=False)
    text = forms.CharField(
        label="…or paste its text",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}),
    )


class FeeAdvanceForm(PickerFormMixin, forms.Form):
    """A government fee the firm paid to USCIS from operating (path a, ADR 011)."""

    matter = MatterPickerField(queryset=Matter.objects.none())
    fee_code = forms.CharField(max_length=32, help_text="e.g. I129, ACWIA, FRAUD, I485")
    amount = forms.CharField(max_length=20, help_text="e.g. 780.00")
    paid_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(choices=FeeAdvanceMethod.choices)
    reference = forms.CharField(max_length=120, required=False, help_text="Check number")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["matter"].queryset = _matters_for(user)  # type: ignore[attr-defined]


class FilingDateForm(forms.Form):
    filing_date = forms.DateField(
        label="Filing date", widget=forms.DateInput(attrs={"type": "date"})
    )
    filing_method = forms.ChoiceField(
        label="Filed", choices=[(FilingMethod.PAPER, "On paper"), (FilingMethod.ONLINE, "Online")]
    )


class FeePathForm(forms.Form):
    fee_path = forms.ChoiceField(label="Paid", choices=FeePath.choices)
