from __future__ import annotations

from typing import Any

from django import forms

from caseledger.clients.models import Client
from caseledger.clients.pickers import ClientPickerField, PickerFormMixin
from caseledger.core.money import Money, MoneyError
from caseledger.core.selectors import firm_get
from caseledger.matters.models import Matter
from caseledger.matters.pickers import MatterPickerField
from caseledger.payments.choices import PaymentMethod, RefundMethod


class MoneyField(forms.CharField):
    """An amount typed as text ("1,234.56"), cleaned to integer cents."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 24)
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)
        if text in (None, ""):
            return None
        try:
            return Money.parse(
                str(text), firm_get().currency, field=str(self.label or "amount")
            ).cents
        except MoneyError as exc:
            raise forms.ValidationError(exc.message) from exc


class PaymentForm(PickerFormMixin, forms.Form):
    client = ClientPickerField(queryset=Client.objects.order_by("name", "id"))
    matter = MatterPickerField(
        queryset=Matter.objects.order_by("number", "id"),
        required=False,
        help_text="Optional: restrict automatic allocation to this matter.",
        narrow_field="client",
    )
    method = forms.ChoiceField(choices=PaymentMethod.choices)
    payer = forms.CharField(max_length=200)
    reference = forms.CharField(
        max_length=120, required=False, help_text="Check number, wire or ACH reference."
    )
    received_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    amount = MoneyField(label="amount")
    allocation = forms.ChoiceField(
        choices=[
            ("auto", "Oldest invoices first"),
            ("manual", "As entered below"),
            ("none", "Keep as unapplied credit"),
        ],
        initial="auto",
        widget=forms.RadioSelect,
    )


class RefundForm(forms.Form):
    amount = MoneyField(label="amount")
    method = forms.ChoiceField(choices=RefundMethod.choices)
    reference = forms.CharField(max_length=120, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)
