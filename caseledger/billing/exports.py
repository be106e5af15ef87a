"""LEDES 1998B exports of invoices of clients billed in LEDES (``Client.ledes_required``).

* ``invoice_ledes_text``: the file of one issued invoice;
* ``client_ledes_text``: one file holding every issued invoice of a client dated in a period;
* ``invoice_ledes_problems``: what would break the file of an invoice not yet issued (the review
  page shows them and approval is refused while there are any).

LAW_FIRM_ID is the firm's taxpayer ID (core Firm settings); without it nothing is exported.
Every fee line carries its timekeeper: time lines the person who recorded the time, flat fees
and installments the matter's responsible attorney (else its responsible partner).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from caseledger.billing.choices import PASS_THROUGH_KINDS, InvoiceStatus, LineKind
from caseledger.billing.exceptions import LedesInvalid
from caseledger.billing.ledes import (
    LEDES_HAS_TAX,
    LEDES_NO_INVOICES,
    LEDES_NO_TAXPAYER_ID,
    LEDES_NOT_ISSUED,
    LEDES_NOT_REQUIRED,
    LEDES_PERIOD,
    LedesImport,
    LedesInvoice,
    LedesLine,
    ledes_checked,
    ledes_parse,
    ledes_render,
    ledes_validate,
)
from caseledger.billing.models import Invoice
from caseledger.billing.selectors import invoice_lines
from caseledger.core.choices import Role
from caseledger.core.money import format_money

# Product roles to the specification's 2014 timekeeper classifications (paralegals are LA,
# "Legal Assistant / Paralegal"; anyone else who records time is OT, "Other Timekeeper").
CLASSIFICATION: dict[str, str] = {Role.PARTNER: "PT", Role.ATTORNEY: "AS", Role.PARALEGAL: "LA"}

_LINE_REF = re.compile(r"^line (\d+): ")


def _timekeeper_name(user: Any) -> str:
    if user is None:
        return ""
    if user.last_name:
        return f"{user.last_name}, {user.first_name}".strip(", ")
    return str(user.get_username())


def _timekeeper_id(user: Any) -> str:
    if user is None:
        return ""
    return str(getattr(user, "initials", "") or user.pk)


def _responsible_attorney(invoice: Invoice) -> Any:
    """Who answers for flat fees and installments: the matter's attorney, else its responsible
    partner, else the invoice's."""
    matter = invoice.matter
    return (
        getattr(matter, "attorney", None)
        or getattr(matter, "responsible_partner", None)
        or invoice.responsible_partner
    )


def _is_expense(line: Any) -> bool:
    return line.kind in PASS_THROUGH_KINDS or line.kind == LineKind.EXPENSE


def firm_law_firm_id() -> str:
    """The firm's taxpayer ID; raises LedesInvalid (field taxpayer_id) when it is not set."""
    from caseledger.core.selectors import firm_get

    taxpayer_id = (firm_get().taxpayer_id or "").strip()
    if not taxpayer_id:
        raise LedesInvalid(LEDES_NO_TAXPAYER_ID, field="taxpayer_id")
    return taxpayer_id


def _refuse_tax(invoice: Invoice) -> None:
    if invoice.tax_cents:
        raise LedesInvalid(
            LEDES_HAS_TAX.format(
                ref=invoice, tax=format_money(invoice.tax_cents, invoice.currency)
            ),
            field="ledes",
        )


def invoice_ledes_document(
    *, invoice: Invoice, law_firm_id: str, number: str | None = None, on: date | None = None
) -> LedesInvoice:
    """The LEDES invoice of ``invoice`` (its number and issue date, or ``number`` / ``on`` for an
    invoice not yet issued). Raises LedesInvalid when it carries invoice-level tax."""
    _refuse_tax(invoice)
    lines = list(invoice_lines(invoice=invoice))
    invoice_date: date = invoice.issue_date or on  # type: ignore[assignment]
    dates = [line.line_date or invoice_date for line in lines]
    responsible = _responsible_attorney(invoice)
    ledes_lines = []
    for index, line in enumerate(lines, start=1):
        expense = _is_expense(line)
        keeper = None if expense else (line.timekeeper or responsible)
        ledes_lines.append(
            LedesLine(
                number=str(index),
                is_expense=expense,
                units=line.quantity,
                unit_cost_cents=line.unit_price_cents,
                total_cents=line.amount_cents,
                line_date=line.line_date or invoice_date,
                task_code=line.utbms_task_code,
                expense_code=line.utbms_expense_code,
                activity_code=line.utbms_activity_code,
                timekeeper_id=_timekeeper_id(keeper),
                timekeeper_name=_timekeeper_name(keeper),
                timekeeper_classification=CLASSIFICATION.get(keeper.role, "OT") if keeper else "",
                description=line.description,
            )
        )
    matter_number = invoice.matter.number[:20]
    return LedesInvoice(
        invoice_date=invoice_date,
        number=number or invoice.number or "",
        client_id=f"C{invoice.client_id}",
        matter_id=matter_number,
        client_matter_id=matter_number,
        total_cents=invoice.total_cents,
        billing_start=min(dates) if dates else invoice_date,
        billing_end=max(dates) if dates else invoice_date,
        description=invoice.matter.title[:200] or "Legal services",
        law_firm_id=law_firm_id,
        lines=ledes_lines,
    )


def _refuse_unless_ledes_client(client: Any) -> None:
    if not getattr(client, "ledes_required", False):
        raise LedesInvalid(LEDES_NOT_REQUIRED.format(client=client.name), field="ledes")


def invoice_ledes_text(*, invoice: Invoice) -> str:
    """The validated LEDES 1998B file of an issued invoice of a client billed in LEDES; raises
    LedesInvalid naming the rule broken otherwise (not issued, client not on LEDES, no taxpayer
    ID, invoice-level tax, a line the validator refuses)."""
    _refuse_unless_ledes_client(invoice.client)
    if invoice.status != InvoiceStatus.ISSUED:
        raise LedesInvalid(
            LEDES_NOT_ISSUED.format(ref=invoice, status=invoice.get_status_display().lower()),
            field="ledes",
        )
    doc = invoice_ledes_document(invoice=invoice, law_firm_id=firm_law_firm_id())
    return ledes_checked(ledes_render([doc]))


def client_ledes_invoices(*, client: Any, start: date, end: date) -> list[Invoice]:
    """Issued invoices of ``client`` with an issue date from ``start`` to ``end``, by number."""
    return list(
        Invoice.objects.filter(
            client=client,
            status=InvoiceStatus.ISSUED,
            issue_date__gte=start,
            issue_date__lte=end,
        )
        .select_related("client", "matter", "matter__attorney", "matter__responsible_partner")
        .order_by("issue_date", "number", "id")
    )


@dataclass(frozen=True)
class ClientLedesFile:
    text: str
    invoices: list[Invoice]

    @property
    def filename(self) -> str:
        first, last = self.invoices[0].issue_date, self.invoices[-1].issue_date
        return f"client-{self.invoices[0].client_id}-{first:%Y%m%d}-{last:%Y%m%d}.ledes.txt"


def client_ledes_text(*, client: Any, start: date, end: date) -> ClientLedesFile:
    """One validated 1998B file with every issued invoice of ``client`` dated ``start`` to
    ``end``. Raises LedesInvalid when the client is not billed in LEDES, the period is
    backwards, there is no such invoice, the taxpayer ID is missing or a file rule is broken."""
    _refuse_unless_ledes_client(client)
    if end < start:
        raise LedesInvalid(LEDES_PERIOD.format(start=start, end=end), field="end")
    invoices = client_ledes_invoices(client=client, start=start, end=end)
    if not invoices:
        raise LedesInvalid(
            LEDES_NO_INVOICES.format(client=client.name, start=start, end=end), field="ledes"
        )
    law_firm_id = firm_law_firm_id()
    docs = [invoice_ledes_document(invoice=inv, law_firm_id=law_firm_id) for inv in invoices]
    return ClientLedesFile(text=ledes_checked(ledes_render(docs)), invoices=invoices)


def invoice_ledes_problems(*, invoice: Invoice, today: date) -> list[str]:
    """What stops the LEDES file of ``invoice`` from validating, in words for the review page
    ([] when the client is not billed in LEDES or the file would validate). An invoice not yet
    issued is checked under a placeholder number, dated ``today``."""
    if not getattr(invoice.client, "ledes_required", False):
        return []
    problems: list[str] = []
    try:
        law_firm_id = firm_law_firm_id()
    except LedesInvalid as exc:
        problems.append(exc.message)
        law_firm_id = "00-0000000"  # checked on: every other problem is still listed
    try:
        doc = invoice_ledes_document(
            invoice=invoice,
            law_firm_id=law_firm_id,
            number=invoice.number or f"DRAFT-{invoice.pk}",
            on=today,
        )
    except LedesInvalid as exc:
        return [*problems, exc.message]
    by_row = {index + 3: line for index, line in enumerate(doc.lines)}
    for message in ledes_validate(ledes_render([doc])):
        match = _LINE_REF.match(message)
        line = by_row.get(int(match.group(1))) if match else None
        if match and line is not None:
            message = f"line {line.number} ({line.description[:60]}): " + message[match.end() :]
        problems.append("ledes: " + message)
    return problems


LEDES_IMPORT_EMPTY = "file: choose a LEDES 1998B file or paste its text"


def ledes_import_preview(*, data: bytes | str) -> LedesImport:
    """Read a 1998B file from another system into a preview (invoices, lines, every rule it
    breaks); nothing is written. Read leniently (``strict=False``): legacy timekeeper
    classifications and other UTBMS code sets are accepted, the format is checked in full.
    Raises LedesInvalid when there is nothing to read."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")  # the validator then names the non-ASCII character
    else:
        text = data
    if not text.strip():
        raise LedesInvalid(LEDES_IMPORT_EMPTY, field="file")
    return ledes_parse(text, strict=False)
