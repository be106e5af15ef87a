from __future__ import annotations

from django import forms

from caseledger.clients.models import Client
from caseledger.clients.pickers import ClientPickerField, PickerFormMixin
from caseledger.core.forms import MoneyField, OneTimeTokenMixin
from caseledger.matters.models import Matter
from caseledger.matters.pickers import MatterPickerField
from caseledger.payments.choices import PaymentMethod, RefundMethod


class PaymentForm(OneTimeTokenMixin, PickerFormMixin, forms.Form):
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
    amount = MoneyField(label="Amount")
    allocation = forms.ChoiceField(
        choices=[
            ("auto", "Oldest invoices first"),
            ("manual", "As entered below"),
            ("none", "Keep as unapplied credit"),
        ],
        initial="auto",
        widget=forms.RadioSelect,
    )


class RefundForm(OneTimeTokenMixin, forms.Form):
    amount = MoneyField(label="Amount")
    method = forms.ChoiceField(choices=RefundMethod.choices)
    reference = forms.CharField(max_length=120, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)


class TokenForm(OneTimeTokenMixin, forms.Form):
    """Only the one-time token, for money forms whose inputs are drawn by hand (allocations)."""


class ReversalForm(OneTimeTokenMixin, forms.Form):
    reason = forms.CharField(
        max_length=300,
        help_text="Why it is reversed, e.g. check returned unpaid, recorded twice.",
    )


class CorrectionSettingsForm(forms.Form):
    reversal_approval = MoneyField(
        label="Reversals needing a partner's approval, above",
        help_text="A payment or trust deposit reversal above this amount waits for a partner "
        "other than the person who asked for it.",
    )
