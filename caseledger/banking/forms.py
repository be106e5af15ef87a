"""Banking forms: they parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from caseledger.banking.choices import FILE_FORMATS
from caseledger.banking.parsers.csvfile import DATE_FORMATS, CsvMapping
from caseledger.ledger.models import Account

DATE_FORMAT_LABELS = {
    "%Y-%m-%d": "2026-03-31 (year-month-day)",
    "%m/%d/%Y": "03/31/2026 (month/day/year)",
    "%d/%m/%Y": "31/03/2026 (day/month/year)",
    "%d.%m.%Y": "31.03.2026 (day.month.year)",
    "%m/%d/%y": "03/31/26 (month/day/yy)",
    "%d/%m/%y": "31/03/26 (day/month/yy)",
    "%d.%m.%y": "31.03.26 (day.month.yy)",
    "%Y%m%d": "20260331",
    "%d-%m-%Y": "31-03-2026 (day-month-year)",
    "%m-%d-%Y": "03-31-2026 (month-day-year)",
    "%Y/%m/%d": "2026/03/31",
    "%d %b %Y": "31 Mar 2026",
    "%b %d, %Y": "Mar 31, 2026",
}


class BankAccountForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="How the firm calls it, e.g. IOLTA trust.")
    bank_name = forms.CharField(max_length=120, label="Bank")
    number = forms.CharField(
        max_length=64,
        label="Account number or IBAN",
        help_text="As the bank writes it in its statement files. Stored encrypted; shown masked.",
    )
    ledger_account = forms.ModelChoiceField(
        queryset=Account.objects.none(),
        label="Ledger account",
        help_text="The chart's bank account this one is booked in.",
    )
    formats = forms.MultipleChoiceField(
        choices=FILE_FORMATS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Statement formats the bank sends",
    )

    def __init__(self, *args: Any, ledger_accounts: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if ledger_accounts is not None:
            self.fields["ledger_account"].queryset = ledger_accounts  # type: ignore[attr-defined]


class BankAccountEditForm(forms.Form):
    name = forms.CharField(max_length=120)
    bank_name = forms.CharField(max_length=120, label="Bank")
    number = forms.CharField(
        max_length=64,
        required=False,
        label="New account number or IBAN",
        help_text="Leave empty to keep the current number.",
    )
    formats = forms.MultipleChoiceField(
        choices=FILE_FORMATS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Statement formats the bank sends",
    )
    is_active = forms.BooleanField(required=False, label="Active")
    match_window_days = forms.IntegerField(
        required=False,
        label="Matching window (days)",
        help_text="A line and a ledger posting of the same amount are suggested when at most "
        "this many days apart.",
    )
    stale_days = forms.IntegerField(
        required=False,
        label="Stale after (days)",
        help_text="Checks and disbursements not shown by the bank after this many days are "
        "listed as stale.",
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Statement file",
        help_text="CSV, OFX/QFX, camt.053/camt.054, BAI2 or MT940; the format is recognised.",
    )


class MappingForm(forms.Form):
    date = forms.ChoiceField(label="Date column")
    date_format = forms.ChoiceField(
        label="Date format",
        choices=[("", "— choose —")] + [(f, DATE_FORMAT_LABELS[f]) for f in DATE_FORMATS],
    )
    amount = forms.ChoiceField(label="Amount column (signed)", required=False)
    debit = forms.ChoiceField(label="or: debit column (money out)", required=False)
    credit = forms.ChoiceField(label="and credit column (money in)", required=False)
    description = forms.ChoiceField(label="Description column", required=False)
    reference = forms.ChoiceField(label="Bank reference column", required=False)
    balance = forms.ChoiceField(label="Running balance column", required=False)
    decimal_comma = forms.BooleanField(
        label="Amounts use a decimal comma (1.234,56)", required=False
    )

    COLUMNS = ("date", "amount", "debit", "credit", "description", "reference", "balance")

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "— none —")] + [(h, h) for h in header]
        for name in self.COLUMNS:
            self.fields[name].choices = choices  # type: ignore[attr-defined]
        self.header = header

    def mapping(self) -> CsvMapping:
        data = self.cleaned_data
        return CsvMapping(
            header=list(self.header),
            date_format=data["date_format"],
            decimal_comma=bool(data["decimal_comma"]),
            **{name: data.get(name) or "" for name in self.COLUMNS},
        )


class AcceptForm(forms.Form):
    """Suggestions shown on the workbench, as ``line:posting-posting`` joined by ``;``. The
    server computes them again and accepts those still suggested (reasons are its own)."""

    shown = forms.CharField(widget=forms.HiddenInput, max_length=200_000)

    def proposals(self) -> list[tuple[int, tuple[int, ...]]]:
        out = []
        for part in self.cleaned_data["shown"].split(";"):
            line, _, postings = part.partition(":")
            try:
                out.append((int(line), tuple(int(p) for p in postings.split("-") if p)))
            except ValueError:
                continue
        return out


class ManualMatchForm(forms.Form):
    postings = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="Postings shown by this line",
        help_text="Their amounts must add up to what the line has left to match.",
    )
    note = forms.CharField(max_length=120, required=False, label="Note (optional)")

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["postings"].choices = choices  # type: ignore[attr-defined]


class SplitForm(forms.Form):
    posting = forms.TypedChoiceField(label="The one posting", coerce=int)
    lines = forms.TypedMultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="The other lines that show it",
        help_text="This line and the ones ticked must add up to the posting exactly.",
        coerce=int,
    )
    note = forms.CharField(max_length=120, required=False, label="Note (optional)")

    def __init__(
        self,
        *args: Any,
        postings: list[tuple[int, str]],
        lines: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["posting"].choices = [("", "— choose —"), *postings]  # type: ignore[attr-defined]
        self.fields["lines"].choices = lines  # type: ignore[attr-defined]


class ResolveForm(forms.Form):
    kind = forms.ChoiceField(label="What is this line?")
    target = forms.TypedChoiceField(
        label="Trust deposit returned", required=False, coerce=int, empty_value=None
    )
    payments = forms.TypedMultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="Card payments this payout pays out",
        help_text="For a card payout net of fees: the processor's fee is the payments less the "
        "payout, posted as an operating expense.",
        required=False,
        coerce=int,
    )
    note = forms.CharField(max_length=120, required=False, label="Note (optional)")

    def __init__(
        self,
        *args: Any,
        kinds: list[tuple[str, str]],
        targets: list[tuple[int, str]] | None,
        payments: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds  # type: ignore[attr-defined]
        if payments is None:
            del self.fields["payments"]
        else:
            self.fields["payments"].choices = payments  # type: ignore[attr-defined]
        if targets is None:
            del self.fields["target"]
        else:
            self.fields["target"].choices = [("", "— choose —"), *targets]  # type: ignore[attr-defined]


class ReconcilePrepareForm(forms.Form):
    period_end = forms.DateField(
        label="Statement date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Usually the last day of the month being reconciled.",
    )


class ReconcileSignForm(forms.Form):
    """Signing takes no input: the reviewer confirms what the page shows."""


class ReconcileReopenForm(forms.Form):
    reason = forms.CharField(
        label="Reason for reopening",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the audit log and on the reopened record.",
    )


class ReconcileSettingsForm(forms.Form):
    signoff_due_days = forms.IntegerField(
        label="Sign-off due (days after month end)",
        min_value=0,
        max_value=365,
        help_text="A month not signed by then opens a task for the partners.",
    )
