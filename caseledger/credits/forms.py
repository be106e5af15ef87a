"""Forms of the credits pages: they parse input only; the services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.core.forms import OneTimeTokenMixin
from caseledger.credits.choices import ReasonCode, RefundMethod

INVOICE_NOT_FOUND = "invoice: no issued invoice numbered {number!r}"
LINE_COUNT = 4


class InvoiceField(forms.CharField):
    def clean(self, value: Any) -> Invoice:
        number = super().clean(value).strip()
        invoice = (
            Invoice.objects.filter(number=number, status=InvoiceStatus.ISSUED)
            .select_related("client", "matter")
            .first()
        )
        if invoice is None:
            raise forms.ValidationError(INVOICE_NOT_FOUND.format(number=number))
        return invoice


class CreditNoteForm(OneTimeTokenMixin, forms.Form):
    invoice = InvoiceField(label="Invoice number", max_length=32)
    reason_code = forms.ChoiceField(label="Reason", choices=ReasonCode.choices)
    reason_text = forms.CharField(label="Reason details", required=False, max_length=500)
    amount = forms.CharField(
        label="Amount to credit",
        required=False,
        help_text="Credit an amount on the invoice, or fill the lines below instead.",
    )
    refund_amount = forms.CharField(
        label="Refund now", required=False, help_text="Part of the already-paid amount to refund."
    )
    refund_method = forms.ChoiceField(
        label="Refund method",
        required=False,
        choices=[("", "No refund (keep as client credit)"), *RefundMethod.choices],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, LINE_COUNT + 1):
            self.fields[f"line_description_{i}"] = forms.CharField(
                label=f"Line {i} description", required=False, max_length=300
            )
            self.fields[f"line_amount_{i}"] = forms.CharField(
                label=f"Line {i} amount", required=False
            )

    def line_fields(self) -> list[tuple[Any, Any]]:
        return [
            (self[f"line_description_{i}"], self[f"line_amount_{i}"])
            for i in range(1, LINE_COUNT + 1)
        ]


class DecisionForm(forms.Form):
    note = forms.CharField(label="Note", required=False, max_length=500)


class WriteOffForm(OneTimeTokenMixin, forms.Form):
    invoice = InvoiceField(label="Invoice number", max_length=32)
    amount = forms.CharField(
        label="Amount", required=False, help_text="Leave blank to write off the whole balance due."
    )
    reason = forms.CharField(label="Reason", max_length=500)


class ReverseForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=500)


class ReportForm(forms.Form):
    by = forms.ChoiceField(
        choices=[
            ("reason", "Reason"),
            ("client", "Client"),
            ("partner", "Responsible partner"),
            ("case_type", "Case type"),
            ("month", "Month"),
        ],
        required=False,
    )
    date_from = forms.DateField(label="From", required=False)
    date_to = forms.DateField(label="To", required=False)


class CreditSettingsForm(forms.Form):
    approval_reason_codes = forms.MultipleChoiceField(
        label="Reasons that always need a partner's approval",
        choices=ReasonCode.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
