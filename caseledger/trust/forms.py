from __future__ import annotations

from typing import Any

from django import forms

from caseledger.clients.pickers import PickerFormMixin
from caseledger.core.forms import MoneyField, OneTimeTokenMixin
from caseledger.matters.models import Matter
from caseledger.matters.pickers import MatterPickerField
from caseledger.trust.choices import (
    DepositMethod,
    DisbursementMethod,
    DisbursementPurpose,
    TrustRequestKind,
)


class TrustAccountMixin(forms.Form):
    """A select of the firm's trust bank accounts (the primary first and chosen by default)."""

    trust_account = forms.ChoiceField(
        choices=(),
        required=False,
        help_text="The trust bank account the money is in.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from caseledger.trust.selectors import trust_bank_accounts

        field = self.fields["trust_account"]
        field.choices = [(a.code, f"{a.code} {a.name}") for a in trust_bank_accounts()]  # type: ignore[attr-defined]
        if field.choices and not self.initial.get("trust_account"):  # type: ignore[attr-defined]
            field.initial = field.choices[0][0]  # type: ignore[attr-defined]


class DepositForm(OneTimeTokenMixin, PickerFormMixin, TrustAccountMixin, forms.Form):
    matter = MatterPickerField(
        queryset=Matter.objects.select_related("client").order_by("number", "id")
    )
    method = forms.ChoiceField(choices=DepositMethod.choices)
    payer = forms.CharField(max_length=200)
    reference = forms.CharField(
        max_length=120, required=False, help_text="Check number, wire or ACH reference."
    )
    received_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    amount = MoneyField(label="Amount")
    card_settled = forms.BooleanField(
        required=False, label="Card payment already settled by the processor"
    )


class TrustRequestForm(OneTimeTokenMixin, PickerFormMixin, forms.Form):
    matter = MatterPickerField(
        queryset=Matter.objects.select_related("client").order_by("number", "id")
    )
    kind = forms.ChoiceField(choices=TrustRequestKind.choices)
    amount = MoneyField(label="Amount")
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    memo = forms.CharField(max_length=300, required=False)


class DisbursementForm(OneTimeTokenMixin, PickerFormMixin, TrustAccountMixin, forms.Form):
    matter = MatterPickerField(
        queryset=Matter.objects.select_related("client").order_by("number", "id")
    )
    payee = forms.CharField(max_length=200)
    amount = MoneyField(label="Amount")
    purpose = forms.ChoiceField(choices=DisbursementPurpose.choices)
    method = forms.ChoiceField(choices=DisbursementMethod.choices)
    fee_code = forms.CharField(
        label="Government fee code",
        max_length=32,
        required=False,
        help_text="For a filing fee to DHS/USCIS: the fee it pays (e.g. I129, I485). That fee is "
        "then never billed or advanced for the matter.",
    )
    reference = forms.CharField(max_length=120, required=False)
    memo = forms.CharField(max_length=300, required=False)


class DisputeForm(OneTimeTokenMixin, forms.Form):
    amount = MoneyField(label="Amount")
    reason = forms.CharField(max_length=300)


class ThresholdForm(forms.Form):
    threshold = MoneyField(label="Threshold", required=False, help_text="Empty: the firm default.")


class ApplyTrustForm(OneTimeTokenMixin, TrustAccountMixin, forms.Form):
    amount = MoneyField(
        label="Amount",
        required=False,
        help_text="Empty: as much as cleared trust and the balance allow.",
    )


class TrustSettingsForm(forms.Form):
    low_balance_threshold = MoneyField(label="Low-balance threshold")
    auto_replenish = forms.BooleanField(required=False)
    check_clear_days = forms.IntegerField(min_value=0, max_value=30)
    ach_clear_days = forms.IntegerField(min_value=0, max_value=30)
    wire_clear_days = forms.IntegerField(min_value=0, max_value=30)
    cash_clear_days = forms.IntegerField(min_value=0, max_value=30)
    processor_nets_fee = forms.BooleanField(required=False)
    disbursement_expiry_days = forms.IntegerField(min_value=1, max_value=365)


class ReversalForm(OneTimeTokenMixin, forms.Form):
    reason = forms.CharField(
        max_length=300,
        help_text="Why it is reversed, e.g. check returned unpaid, recorded on the wrong matter.",
    )


class DecisionForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)
