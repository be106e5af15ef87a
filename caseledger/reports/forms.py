"""The report filters and the report settings form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from caseledger.billing import utbms
from caseledger.clients.choices import ClientType
from caseledger.core import clock
from caseledger.core.choices import Role
from caseledger.core.forms import MoneyField
from caseledger.matters.models import CaseType, Matter
from caseledger.reports.metrics import Filters, Period
from caseledger.reports.models import Cadence
from caseledger.reports.selectors import default_period

PERIOD_ORDER = "to: must not be before from."
PERIOD_LENGTH = "to: a report period is at most 5 years."
MAX_PERIOD_DAYS = 5 * 366


class FilterForm(forms.Form):
    """Period and cohort filters, read from the query string (GET)."""

    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    partner = forms.TypedChoiceField(label="Partner", required=False, coerce=int, empty_value=None)
    client_type = forms.ChoiceField(
        label="Client type", required=False, choices=[("", "All"), *ClientType.choices]
    )
    case_type = forms.TypedChoiceField(
        label="Case type", required=False, coerce=int, empty_value=None
    )
    office = forms.ChoiceField(label="Office", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        partners = get_user_model().objects.filter(role=Role.PARTNER).order_by("last_name")
        partner_field = self.fields["partner"]
        case_type_field = self.fields["case_type"]
        assert isinstance(partner_field, forms.ChoiceField)
        assert isinstance(case_type_field, forms.ChoiceField)
        partner_field.choices = [("", "All")] + [
            (u.pk, u.get_full_name() or u.get_username()) for u in partners
        ]
        case_type_field.choices = [("", "All")] + [
            (c.pk, c.name) for c in CaseType.objects.order_by("name")
        ]
        offices = Matter.objects.exclude(office="").values_list("office", flat=True)
        office_field = self.fields["office"]
        assert isinstance(office_field, forms.ChoiceField)
        office_field.choices = [("", "All")] + [
            (o, o) for o in offices.distinct().order_by("office")
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", PERIOD_ORDER)
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("end", PERIOD_LENGTH)
        for name in ("start", "end"):
            value = data.get(name)
            if value and not clock.EARLIEST_DATE <= value <= clock.LATEST_DATE:
                self.add_error(name, f"{name}: must be between 1990-01-01 and 2100-12-31.")
        return data

    def period(self) -> Period:
        fallback = default_period()
        if not self.is_valid():
            return fallback
        start = self.cleaned_data.get("start") or fallback.start
        end = self.cleaned_data.get("end") or fallback.end
        return Period(start, end) if end >= start else fallback

    def filters(self) -> Filters:
        if not self.is_valid():
            return Filters()
        return Filters(
            partner_id=self.cleaned_data.get("partner"),
            client_type=self.cleaned_data.get("client_type") or "",
            case_type_id=self.cleaned_data.get("case_type"),
            office=self.cleaned_data.get("office") or "",
        )


class SettingsForm(forms.Form):
    baseline_start = forms.DateField(
        label="Baseline from", required=False, widget=forms.DateInput({"type": "date"})
    )
    baseline_end = forms.DateField(
        label="Baseline to", required=False, widget=forms.DateInput({"type": "date"})
    )
    target_days = forms.IntegerField(label="Collection target (days)", min_value=1, max_value=365)
    staff_cost = MoneyField(
        label="Staff cost per hour", name="staff_cost_cents_per_hour", negative=False
    )
    billing_activity_code = forms.ChoiceField(
        label="Activity code of staff time on billing",
        choices=utbms.activity_choices,
        help_text="Non-billable time entries with this UTBMS activity code count as time spent "
        "on billing.",
    )


class SubscriptionForm(forms.Form):
    cadence = forms.ChoiceField(choices=Cadence.choices, widget=forms.HiddenInput)
    active = forms.TypedChoiceField(
        choices=[("1", "Subscribe"), ("0", "Stop")],
        coerce=lambda v: v == "1",
        widget=forms.HiddenInput,
    )
