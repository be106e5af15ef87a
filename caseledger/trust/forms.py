from __future__ import annotations

from django import forms

from caseledger.clients.pickers import PickerFormMixin
from caseledger.matters.models import Matter
from caseledger.matters.pickers import MatterPickerField
from caseledger.payments.forms import MoneyField
from caseledger.trust.choices import (
    DepositMethod,
    DisbursementMethod,
    DisbursementPurpose,
    TrustRequestKind,
)


class DepositForm(PickerFormMixin, forms.Form):
    matter = MatterPickerField(
        queryset=Matter.objects.select_related("client").order_by("number", "id")
    )
    method = forms.ChoiceField(choices=DepositMethod.choices)
    payer = forms.CharField(max_length=200)
    reference = forms.CharField(
        max_length=120, required=False, help_text="Check number, wire or ACH reference."
    )
    received_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    amount = MoneyField(label="amount")
    card_settled = forms.BooleanField(
        required=False, label="Card payment already settled by the processor"
    )


class TrustRequestForm(PickerFormMixin, forms.Form):
    matter = MatterPickerField(
        queryset=Matter.objects.select_related("client").order_by("number", "id")
    )
    kind = forms.ChoiceField(choices=TrustRequestKind.choices)
    amount = MoneyField(label="amount")
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    memo = forms.CharField(max_length=300, required=False)


class DisbursementForm(PickerFormMixin, forms.Form):
    matter = MatterPickerField(
        queryset=Matter.objects.select_related("client").order_by("number", "id")
    )
    payee = forms.CharField(max_length=200)
    amount = MoneyField(label="amount")
    purpose = forms.ChoiceField(choices=DisbursementPurpose.choices)
    method = forms.ChoiceField(choices=DisbursementMethod.choices)
    reference = forms.CharField(max_length=120, required=False)
    memo = forms.CharField(max_length=300, required=False)


class DisputeForm(forms.Form):
    amount = MoneyField(label="amount")
    reason = forms.CharField(max_length=300)


class ThresholdForm(forms.Form):
    threshold = MoneyField(label="threshold", required=False, help_text="Empty: the firm default.")


class ApplyTrustForm(forms.Form):
    amount = MoneyField(
        label="amount",
        required=False,
        help_text="Empty: as much as cleared trust and the balance allow.",
    )


class TrustSettingsForm(forms.Form):
    low_balance_threshold = MoneyField(label="low_balance_threshold")
    auto_replenish = forms.BooleanField(required=False)
    check_clear_days = forms.IntegerField(min_value=0, max_value=30)
    ach_clear_days = forms.IntegerField(min_value=0, max_value=30)
    wire_clear_days = forms.IntegerField(min_value=0, max_value=30)
    cash_clear_days = forms.IntegerField(min_value=0, max_value=30)
    processor_nets_fee = forms.BooleanField(required=False)
    disbursement_expiry_days = forms.IntegerField(min_value=1, max_value=365)
