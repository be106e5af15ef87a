from __future__ import annotations

from typing import Any

from django import forms

from caseledger.core.forms import MoneyField
from caseledger.imports.models import ImportMapping
from caseledger.imports.sources import SOURCES, Source
from caseledger.payments.choices import PaymentMethod

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadForm(forms.Form):
    source = forms.ChoiceField(choices=[(s.code, s.label) for s in SOURCES.values()])
    mapping = forms.ModelChoiceField(
        queryset=ImportMapping.objects.order_by("name", "id"),
        required=False,
        empty_label="The source's shipped mapping",
        help_text="A mapping saved before for this kind of file.",
    )
    file = forms.FileField(help_text="The CSV file the old system exported.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("file: at most 20 MB; split the export")
        return upload


class MapForm(forms.Form):
    """One column choice and one default per field of the source, built from the file's
    headers; the saved mapping fills the initial values."""

    consent_updates = forms.BooleanField(
        required=False,
        label="Update records that changed since they were imported",
        help_text="Without this, changed rows are only shown, never written.",
    )
    save_as = forms.CharField(
        required=False,
        max_length=80,
        label="Save this mapping as",
        help_text="Optional: a name to reuse it for the next file.",
    )

    def __init__(self, *args: Any, source: Source, headers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = source
        choices = [("", "(not in the file)")] + [(h, h) for h in headers if h]
        for f in source.fields:
            self.fields[f"col_{f.name}"] = forms.ChoiceField(
                choices=choices,
                required=False,
                label=f"{f.label}{' *' if f.required else ''}",
            )
            self.fields[f"def_{f.name}"] = forms.CharField(
                required=False, max_length=120, label=f"Default for {f.label.lower()}"
            )

    def columns(self) -> dict[str, str]:
        return {f.name: self.cleaned_data.get(f"col_{f.name}") or "" for f in self.source.fields}

    def defaults(self) -> dict[str, str]:
        return {f.name: self.cleaned_data.get(f"def_{f.name}") or "" for f in self.source.fields}


class CutoverForm(forms.Form):
    as_of = forms.DateField(label="Cutover date", widget=forms.DateInput(attrs={"type": "date"}))
    trust_bank = MoneyField(
        label="Trust bank balance on the cutover date",
        negative=False,
        help_text=(
            "From the bank statement (a statement imported for that day must close at it): "
            "the imported trust balances must sum to it."
        ),
    )
    aging_total = MoneyField(
        label="Old system's A/R aging total",
        negative=False,
        help_text="The open legacy invoices must sum to it.",
    )


class LegacyPaymentForm(forms.Form):
    received_date = forms.DateField(
        label="Received on", widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.ChoiceField(choices=PaymentMethod.choices, label="Method")
    payer = forms.CharField(max_length=200, label="Payer")
    reference = forms.CharField(
        max_length=100, required=False, label="Reference", help_text="Check number or wire id."
    )
    amount = MoneyField(label="Amount", negative=False)


class AuditPackForm(forms.Form):
    account = forms.ChoiceField(label="Trust bank account")
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from caseledger.trust.selectors import trust_bank_accounts

        super().__init__(*args, **kwargs)
        account = self.fields["account"]
        assert isinstance(account, forms.ChoiceField)
        account.choices = [(a.pk, f"{a.code} {a.name}") for a in trust_bank_accounts()]


class RetentionForm(forms.Form):
    state = forms.ChoiceField(label="Firm's state (trust record minimum)")
    trust_years = forms.IntegerField(min_value=1, max_value=50, label="Trust records, years")
    billing_years = forms.IntegerField(min_value=1, max_value=50, label="Invoices and A/R, years")
    matter_years = forms.IntegerField(
        min_value=1, max_value=50, label="Matter file and personal data, years"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from caseledger.imports.retention import STATE_TRUST_MINIMUMS

        super().__init__(*args, **kwargs)
        state = self.fields["state"]
        assert isinstance(state, forms.ChoiceField)
        state.choices = [(k, k) for k in STATE_TRUST_MINIMUMS]


class PurgeForm(forms.Form):
    number = forms.CharField(max_length=32, label="Matter number")


class HoldForm(forms.Form):
    number = forms.CharField(
        max_length=32, label="Matter number", required=False, help_text="Or a client name below."
    )
    client = forms.CharField(max_length=200, label="Client name", required=False)
    reason = forms.CharField(max_length=300, label="Reason")


class ParallelRunForm(forms.Form):
    cycle_start = forms.DateField(
        label="Cycle from", widget=forms.DateInput(attrs={"type": "date"})
    )
    cycle_end = forms.DateField(label="Cycle to", widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.FileField(
        label="Old system's invoices of the cycle (CSV)",
        help_text="Columns number, matter, line_type (fees, government_fees, expenses, tax), "
        "line_total: the clio-bills layout.",
    )


class SignForm(forms.Form):
    note = forms.CharField(max_length=300, required=False, label="Note with the sign-off")
