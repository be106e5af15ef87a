from __future__ import annotations

from django import forms

DATE_RANGE_INVALID = "date_to: must be on or after date_from"


class TrustBankAccountForm(forms.Form):
    name = forms.CharField(max_length=120, label="Account name")
    bank_name = forms.CharField(max_length=120, required=False, label="Bank")
    account_number_last4 = forms.CharField(
        max_length=4, min_length=4, required=False, label="Last four digits of account number"
    )
    code = forms.CharField(
        max_length=4, required=False, help_text="Leave empty for the next free code (1011-1099)."
    )


class DateRangeForm(forms.Form):
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError(DATE_RANGE_INVALID)
        return data


class AsOfForm(forms.Form):
    as_of = forms.DateField(required=False, label="As of")
