"""Billing reads: settings, rates, fees, payer rules, WIP, queues, lists, documents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from caseledger.billing import hooks
from caseledger.billing.calc import hours_label, payment_terms_label
from caseledger.billing.choices import (
    PASS_THROUGH_KINDS,
    InvoiceStatus,
    Payer,
    TaxMode,
)
from caseledger.billing.models import (
    BillingSettings,
    BillingTrigger,
    Expense,
    GovernmentFee,
    HourlyRate,
    Invoice,
    InvoiceLine,
    PayerRule,
    TimeEntry,
)
from caseledger.core.models import AuditEvent, OutboxMessage, User
from caseledger.core.money import Money
from caseledger.core.paging import SqlRows
from caseledger.core.permissions import UNSCOPED_ROLES
from caseledger.matters.models import Matter


def billing_settings_get() -> BillingSettings:
    """The billing settings; the defaults (unsaved) until someone saves them, so reading a page
    or pricing a line never writes (``billing_settings_update`` creates the row)."""
    return BillingSettings.objects.filter(id=1).first() or BillingSettings(id=1)


def invoice_self_approval_refused(*, invoice: Invoice, user: Any) -> bool:
    """True when ``user`` created this draft and the firm forbids approving one's own draft
    (``invoice_approve`` would refuse it): the page then offers no approve button."""
    return bool(invoice.created_by_id == user.pk and billing_settings_get().forbid_self_approval)


def rate_resolve(*, timekeeper: Any, matter: Matter) -> int | None:
    """Hourly rate in cents: matter override > client override > timekeeper default; None when
    the timekeeper has no rate at all."""
    rates = {
        (r.matter_id, r.client_id): r.rate_cents
        for r in HourlyRate.objects.filter(timekeeper=timekeeper).filter(
            Q(matter=matter)
            | Q(client_id=matter.client_id)
            | Q(matter__isnull=True, client__isnull=True)
        )
    }
    for key in ((matter.pk, None), (None, matter.client_id), (None, None)):
        if key in rates:
            return rates[key]
    return None


def government_fee_in_force(*, case_type_id: int, code: str, on: date) -> GovernmentFee | None:
    """The fee row of (case type, code) whose effective date is the latest on or before ``on``."""
    return (
        GovernmentFee.objects.filter(case_type_id=case_type_id, code=code, effective_date__lte=on)
        .order_by("-effective_date", "-id")
        .first()
    )


def payer_rule_get(*, case_type_id: int | None, category: str) -> PayerRule | None:
    if case_type_id is None:
        return None
    return PayerRule.objects.filter(case_type_id=case_type_id, category=category).first()


def stage_triggers_for(*, case_type_id: int, stage_id: int) -> list[BillingTrigger]:
    return list(
        BillingTrigger.objects.filter(
            case_type_id=case_type_id, stage_id=stage_id, kind="STAGE", active=True
        )
        .select_related("template", "template__service")
        .order_by("id")
    )


def unbilled_time(*, matter: Matter) -> QuerySet[TimeEntry]:
    return TimeEntry.objects.filter(matter=matter, billable=True, invoice_line__isnull=True)


def unbilled_expenses(*, matter: Matter) -> QuerySet[Expense]:
    return Expense.objects.filter(matter=matter, billable=True, invoice_line__isnull=True)


@dataclass(frozen=True)
class WipRow:
    key: Any
    label: str
    partner: str
    minutes: int
    time_cents: int
    expense_cents: int

    @property
    def hours(self) -> str:
        return hours_label(self.minutes)

    @property
    def total_cents(self) -> int:
        return self.time_cents + self.expense_cents


def _visible_matters(user: Any) -> QuerySet[Matter]:
    from caseledger.matters.selectors import matters_visible_to

    return matters_visible_to(user)


class WipMatters(SqlRows[tuple[int, int, int, int]]):
    """The per-matter rows of ``Wip`` (matter id, minutes, time cents, expense cents; largest
    total first, then matter id) read a slice at a time in SQL: ``len()`` is known from the
    partners' statement, a slice is one grouped statement with ORDER BY and LIMIT/OFFSET, so a
    page builds its 50 rows in Python, not one per matter with unbilled work. Iterating reads
    every row. Django's ``Paginator`` takes it as it takes a list."""

    def __init__(self, *, sql: str, params: list[Any], count: int) -> None:
        self._sql, self._params, self._count = sql, params, count

    def __len__(self) -> int:
        return self._count

    def _fetch(self, limit: int | None, offset: int) -> list[tuple[int, int, int, int]]:
        from django.db import connection

        sql = (
            f"SELECT w.matter_id, w.minutes, w.time_cents, w.expense_cents FROM ({self._sql}) w "
            "ORDER BY w.time_cents + w.expense_cents DESC, w.matter_id"
        )
        params = list(self._params)
        if limit is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [(int(m), int(a), int(b), int(c)) for m, a, b, c in cursor.fetchall()]


@dataclass(frozen=True)
class Wip:
    """Unbilled billable time and expenses the user may see: per matter (``matters``: matter
    id, minutes, time cents, expense cents; largest total first, read a page at a time), per
    responsible partner (``by_partner``, labelled rows) and the total. Ids only per matter: a
    page of them is turned into rows by ``wip_rows``, so the page costs the same at any number
    of matters."""

    matters: Sequence[tuple[int, int, int, int]]
    by_partner: list[WipRow]
    total_cents: int


# Unbilled: billable and on no invoice line. The foreign-key index on ``invoice_line`` holds
# the NULLs too, so the sums read the unbilled rows through it, not every entry ever billed
# (10,949 unbilled among 339,419 time entries: an index scan, 5.5 ms for the whole grouping; a
# partial index on the same rows measured no faster, so there is none).
_UNBILLED = "billable AND invoice_line_id IS NULL"


def _wip_sql(user: Any) -> tuple[str, list[Any]] | None:
    """(SQL, params) of the unbilled work per matter the user may see (columns ``matter_id,
    minutes, time_cents, expense_cents``), or None when the user may see no matter."""
    from django.core.exceptions import EmptyResultSet

    scope, params = "", []
    if user.role not in UNSCOPED_ROLES:
        try:
            sub, sub_params = _visible_matters(user).values("id").query.sql_with_params()
        except EmptyResultSet:
            return None
        scope, params = f" AND matter_id IN ({sub})", [*sub_params, *sub_params]
    sql = (
        "SELECT u.matter_id, CAST(SUM(u.minutes) AS BIGINT) AS minutes, "
        "CAST(SUM(u.time_cents) AS BIGINT) AS time_cents, "
        "CAST(SUM(u.expense_cents) AS BIGINT) AS expense_cents FROM ("
        "SELECT matter_id, minutes, amount_cents AS time_cents, 0 AS expense_cents "
        f"FROM {TimeEntry._meta.db_table} WHERE {_UNBILLED}{scope} UNION ALL "
        "SELECT matter_id, 0, 0, amount_cents "
        f"FROM {Expense._meta.db_table} WHERE {_UNBILLED}{scope}) u GROUP BY u.matter_id"
    )
    return sql, params


def wip(*, user: Any) -> Wip:
    """One grouped statement: the unbilled work per matter (``_wip_sql``) summed per responsible
    partner, with the number of matters; one for the partners' names. The per-matter rows are
    read a page at a time (``Wip.matters``)."""
    from django.db import connection

    found = _wip_sql(user)
    if found is None:
        return Wip(matters=[], by_partner=[], total_cents=0)
    sql, params = found
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.responsible_partner_id, COUNT(*), CAST(SUM(w.minutes) AS BIGINT), "
            "CAST(SUM(w.time_cents) AS BIGINT), CAST(SUM(w.expense_cents) AS BIGINT) "
            f"FROM ({sql}) w JOIN {Matter._meta.db_table} m ON m.id = w.matter_id "
            "GROUP BY m.responsible_partner_id",
            params,
        )
        per_partner = {p: (int(n), int(a), int(b), int(c)) for p, n, a, b, c in cursor.fetchall()}
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=[p for p in per_partner if p])}
    by_partner = sorted(
        (
            WipRow(key=label, label=label, partner=label, minutes=v[1], time_cents=v[2],
                   expense_cents=v[3])
            for partner_id, v in per_partner.items()
            for label in [names.get(partner_id, "—") if partner_id else "—"]
        ),
        key=lambda r: (-r.total_cents, r.label),
    )  # fmt: skip
    return Wip(
        matters=WipMatters(sql=sql, params=params, count=sum(v[0] for v in per_partner.values())),
        by_partner=by_partner,
        total_cents=sum(v[2] + v[3] for v in per_partner.values()),
    )


def wip_rows(matters: Iterable[tuple[int, int, int, int]]) -> list[WipRow]:
    """The rows of a page of ``Wip.matters``, in its order (one query for the matters)."""
    page = list(matters)
    info = Matter.objects.select_related("client", "responsible_partner").in_bulk(
        [m for m, *_ in page]
    )
    return [
        WipRow(
            key=info[m],
            label=str(info[m]),
            partner=str(info[m].responsible_partner or "—"),
            minutes=minutes,
            time_cents=time_cents,
            expense_cents=expense_cents,
        )
        for m, minutes, time_cents, expense_cents in page
        if m in info
    ]


def invoices_visible_to(user: Any) -> QuerySet[Invoice]:
    qs = Invoice.objects.all()
    if user.role in UNSCOPED_ROLES:
        return qs
    return qs.filter(matter__in=_visible_matters(user))


def invoice_list(
    *,
    user: Any,
    status: str = "",
    client_id: int | None = None,
    partner_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Invoice]:
    """Invoices the user may see, newest first; dates filter the issue date (drafts: created)."""
    from caseledger.clients.selectors import without_pii

    qs = without_pii(
        invoices_visible_to(user).select_related("client", "matter", "responsible_partner"),
        "client",
    )
    if status:
        qs = qs.filter(status=status)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if partner_id:
        qs = qs.filter(responsible_partner_id=partner_id)
    if date_from:
        qs = qs.filter(
            Q(issue_date__gte=date_from)
            | Q(issue_date__isnull=True, created_at__date__gte=date_from)
        )
    if date_to:
        qs = qs.filter(
            Q(issue_date__lte=date_to) | Q(issue_date__isnull=True, created_at__date__lte=date_to)
        )
    return qs.order_by("-created_at", "-id")


# Sort keys of the invoice list -> columns (each ends in id, so pages never overlap). "balance"
# is the payments app's SQL annotation (``hooks.invoice_money_annotate``).
INVOICE_SORTS = {
    "number": ("number", "id"),
    "issued": ("issue_date", "id"),
    "due": ("due_date", "id"),
    "total": ("total_cents", "id"),
    "balance": ("balance_due_cents", "id"),
}


@dataclass(frozen=True)
class InvoiceListTotals:
    count: int
    total_cents: int
    balance_due_cents: int | None  # None when no app provides the money


def invoice_list_tally(
    *,
    user: Any,
    status: str = "",
    partner_id: int | None = None,
    client_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    payment_state: str = "",
) -> InvoiceListTotals | None:
    """The totals of ``invoice_list``'s rows for these filters from the tally the payments app
    keeps (``hooks.invoice_tally``): one read of a few rows, whatever the number of invoices.
    It answers for users who see every invoice (``UNSCOPED_ROLES``) filtering by status and
    responsible partner only; None otherwise (a client, a date or a payment state, a user
    scoped to their matters, no money provider): the caller sums the rows themselves."""
    if user.role not in UNSCOPED_ROLES or client_id or date_from or date_to or payment_state:
        return None
    tally = hooks.invoice_tally(status=status, partner_id=partner_id)
    if tally is None:
        return None
    return InvoiceListTotals(
        count=tally.count, total_cents=tally.total_cents, balance_due_cents=tally.balance_due_cents
    )


def invoice_list_with_money(
    invoices: QuerySet[Invoice],
    *,
    as_of: date,
    payment_state: str = "",
    sort: str = "",
    tallied: InvoiceListTotals | None = None,
) -> tuple[QuerySet[Invoice], InvoiceListTotals]:
    """``invoices`` (from ``invoice_list``) with each invoice's payment state and balance due
    (``payment_state``, ``balance_due_cents``, from ``hooks.invoice_money_annotate``),
    filtered by payment state, sorted by ``sort`` (a key of ``INVOICE_SORTS``, ``-`` for
    descending; anything else keeps newest first), and the filtered set's count, total and
    balance due: ``tallied`` when given (``invoice_list_tally`` for the same filters), else
    summed in SQL over the filtered rows (one query)."""
    annotated = hooks.invoice_money_annotate(invoices, as_of=as_of)
    has_money = annotated is not None
    qs: Any = annotated if has_money else invoices
    if payment_state and has_money:
        qs = qs.filter(payment_state=payment_state)
    key = sort.removeprefix("-")
    columns = INVOICE_SORTS.get(key)
    if columns is not None and (key != "balance" or has_money):
        descending = sort.startswith("-")
        qs = qs.order_by(
            *(
                F(c).desc(nulls_last=True) if descending else F(c).asc(nulls_last=True)
                for c in columns
            )
        )
    if tallied is not None:
        return qs, tallied
    sums: dict[str, Any] = {"n": Count("id"), "total": Sum("total_cents")}
    if has_money:
        sums["balance"] = Sum("balance_due_cents")
    row = qs.order_by().aggregate(**sums)
    totals = InvoiceListTotals(
        count=int(row["n"] or 0),
        total_cents=int(row["total"] or 0),
        balance_due_cents=int(row["balance"] or 0) if has_money else None,
    )
    return qs, totals


def invoice_has_ar_movement(invoice: Invoice) -> bool:
    """Whether anything but its issue entry moved ``invoice``'s A/R (a payment, a trust
    application, a credit note, a write-off): such an invoice can no longer be voided."""
    from caseledger.ledger.selectors import receivable_moved_by_other_entries

    return receivable_moved_by_other_entries(
        invoice=invoice, except_entry_id=invoice.issue_entry_id
    )


def invoice_voidable(invoice: Invoice) -> bool:
    """Whether ``invoice_void`` would accept it (permissions aside): a draft, one in review, or
    an issued invoice nothing has been paid, credited or written off on yet."""
    if invoice.status in {InvoiceStatus.DRAFT, InvoiceStatus.IN_REVIEW}:
        return True
    return invoice.status == InvoiceStatus.ISSUED and not invoice_has_ar_movement(invoice)


def review_queue(*, partner: Any | None) -> QuerySet[Invoice]:
    """Invoices waiting for a partner's review (all partners' when ``partner`` is None)."""
    qs = (
        Invoice.objects.filter(status=InvoiceStatus.IN_REVIEW)
        .select_related("client", "matter", "responsible_partner")
        .annotate(line_count=Count("lines"))
    )
    if partner is not None:
        qs = qs.filter(responsible_partner=partner)
    return qs.order_by("created_at", "id")


def invoice_history(*, invoice: Invoice) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        object_type="billing.invoice", object_id=str(invoice.pk)
    ).order_by("at", "id")


def invoice_emails(*, invoice: Invoice) -> QuerySet[OutboxMessage]:
    """The invoice's emails in the outbox (core.outbox), oldest first."""
    from caseledger.core.selectors import outbox_messages_for

    return outbox_messages_for(obj=invoice)


def invoice_lines(*, invoice: Invoice) -> QuerySet[InvoiceLine]:
    return invoice.lines.select_related("timekeeper", "service", "fee_advance").order_by(
        "position", "id"
    )


def matter_trust_available_cents(*, invoice: Invoice) -> int:
    from caseledger.ledger.selectors import client_trust_balance

    return client_trust_balance(client=invoice.client, matter=invoice.matter)


def line_codes(line: InvoiceLine) -> str:
    if line.kind in PASS_THROUGH_KINDS or line.utbms_expense_code:
        return line.utbms_expense_code
    return " / ".join(c for c in (line.utbms_task_code, line.utbms_activity_code) if c)


def invoice_pdf_bytes(*, invoice: Invoice, payment_link: str) -> bytes:
    """The invoice's PDF in its client's language (``Client.preferred_language``)."""
    from caseledger.billing.pdf import render_invoice_pdf
    from caseledger.core.i18n import client_language

    with client_language(invoice.client):
        return render_invoice_pdf(invoice_document(invoice=invoice, payment_link=payment_link))


def invoice_document(*, invoice: Invoice, payment_link: str, trust_cents: int | None = None) -> Any:
    """The PDF's input for ``invoice``: everything printed, nothing else, in the active
    language (``invoice_pdf_bytes`` renders under the client's)."""
    from caseledger.billing.pdf import InvoiceDocument, PdfLine
    from caseledger.core.selectors import firm_get

    firm = firm_get()
    settings = billing_settings_get()

    def fmt(cents: int) -> str:
        return Money(cents, invoice.currency).format()

    legal, costs = [], []
    legal_cents = cost_cents = 0
    for line in invoice_lines(invoice=invoice):
        description = line.description
        if line.fee_path == "FROM_TRUST":
            paid = fmt(line.fee_amount_cents)
            description = _("%(line)s (paid from your trust account: %(amount)s; nothing due)") % {
                "line": description,
                "amount": paid,
            }
        elif line.fee_path == "CLIENT_DIRECT":
            paid = fmt(line.fee_amount_cents)
            description = _(
                "%(line)s (paid by you directly to USCIS: %(amount)s; for information)"
            ) % {"line": description, "amount": paid}
        pdf_line = PdfLine(
            description=description,
            line_date=line.line_date,
            codes=line_codes(line),
            quantity=f"{line.quantity.normalize():f}",
            unit_price=fmt(line.unit_price_cents),
            amount=fmt(line.amount_cents),
        )
        if line.kind in PASS_THROUGH_KINDS:
            costs.append(pdf_line)
            cost_cents += line.amount_cents
        else:
            legal.append(pdf_line)
            legal_cents += line.amount_cents
    if trust_cents is None:
        trust_cents = matter_trust_available_cents(invoice=invoice)
    matter = invoice.matter
    case_type = getattr(matter, "case_type", None)
    if invoice.bill_to_name:  # issued: the frozen snapshot, no lookup
        name, address = invoice.bill_to_name, invoice.bill_to_address
    else:
        name, address, _email = invoice_addressee(invoice=invoice)
    beneficiary = matter.beneficiary_name
    return InvoiceDocument(
        firm_name=firm.name,
        firm_address=firm.address,
        firm_email=firm.email,
        firm_phone=firm.phone,
        title=_("Invoice %(number)s") % {"number": invoice.number}
        if invoice.number
        else _("Draft invoice #%(id)s") % {"id": invoice.pk},
        number=invoice.number or "",
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        bill_to_name=name,
        bill_to_address=address,
        matter_label=f"{matter.number} · {matter.title}",
        case_type=str(case_type) if case_type else "",
        legal_lines=legal,
        cost_lines=costs,
        legal_subtotal=fmt(legal_cents),
        cost_subtotal=fmt(cost_cents),
        tax=fmt(invoice.tax_cents)
        if settings.tax_mode != TaxMode.NONE or invoice.tax_cents
        else None,
        total=fmt(invoice.total_cents),
        trust_available=fmt(trust_cents),
        terms=invoice.terms,
        notes=invoice.notes,
        payment_link=payment_link,
        watermark="" if invoice.number else _("DRAFT"),
        extra_facts=[(_("Matter"), matter.number)],
        payment_terms=payment_terms_label(issue_date=invoice.issue_date, due_date=invoice.due_date),
        beneficiary=beneficiary if beneficiary != name else "",
    )


def postal_address(obj: Any) -> str:
    """Postal address lines of a client or beneficiary, whatever fields it has."""
    parts = []
    for attr in ("address_line1", "address_line2", "street", "address"):
        value = getattr(obj, attr, "") or ""
        if value:
            parts.append(str(value))
    city = " ".join(
        p
        for p in (
            (getattr(obj, "city", "") or "") + ("," if getattr(obj, "city", "") else ""),
            getattr(obj, "region", "") or getattr(obj, "state", "") or "",
            getattr(obj, "postal_code", "") or "",
        )
        if p
    ).strip()
    if city:
        parts.append(city)
    country = getattr(obj, "country", "") or ""
    if country and country not in {"US", "USA", "United States"}:
        parts.append(str(country))
    return "\n".join(parts)


def invoice_addressee(*, invoice: Invoice) -> tuple[str, str, str]:
    """(name, address, email) the invoice is addressed to: the client (petitioner) or the
    matter's beneficiary."""
    from caseledger.clients.selectors import client_billing_email

    if invoice.bill_to == Payer.BENEFICIARY:
        beneficiary = getattr(invoice.matter, "beneficiary", None)
        if beneficiary is not None:
            name = getattr(beneficiary, "name", None) or str(beneficiary)
            email = getattr(beneficiary, "email", "") or ""
            return str(name), postal_address(beneficiary), str(email)
    client = invoice.client
    return client.name, postal_address(client), client_billing_email(client)


def invoices_lines_verify() -> list[str]:
    """Each issued or void invoice's subtotal against the sum of its lines and its total against
    subtotal plus tax. One line per difference, naming the invoice."""
    sums = dict(
        InvoiceLine.objects.filter(invoice__status__in=[InvoiceStatus.ISSUED, InvoiceStatus.VOID])
        .values("invoice_id")
        .annotate(t=Sum("amount_cents"))
        .values_list("invoice_id", "t")
    )
    problems: list[str] = []
    for iid, number, subtotal, tax, total in (
        Invoice.objects.filter(status__in=[InvoiceStatus.ISSUED, InvoiceStatus.VOID])
        .order_by("id")
        .values_list("id", "number", "subtotal_cents", "tax_cents", "total_cents")
    ):
        lines = int(sums.get(iid) or 0)
        if lines != subtotal:
            problems.append(
                f"invoice {number or iid} (#{iid}): subtotal {subtotal}, its lines sum to {lines}"
            )
        if subtotal + tax != total:
            problems.append(
                f"invoice {number or iid} (#{iid}): total {total} != subtotal {subtotal} "
                f"+ tax {tax}"
            )
    return problems


# -- government fees (ADR 011) -------------------------------------------------------------------


def matter_filing_date(*, matter_id: int) -> date | None:
    """The firm date of the matter's latest "filed" stage event, or None (not filed yet)."""
    from caseledger.core import clock
    from caseledger.matters.models import StageEvent

    event = (
        StageEvent.objects.filter(matter_id=matter_id, stage__code="filed")
        .order_by("-at", "-id")
        .first()
    )
    return clock.firm_date(event.at) if event else None


def matter_fee_path_default(*, matter_id: int) -> str | None:
    from caseledger.billing.models import MatterFeePath

    return (
        MatterFeePath.objects.filter(matter_id=matter_id).values_list("fee_path", flat=True).first()
    )


def fee_advances_unbilled() -> QuerySet[Any]:
    """Fees the firm advanced to USCIS that no issued invoice has billed yet (1300 holds them)."""
    from caseledger.billing.models import FeeAdvance

    return (
        FeeAdvance.objects.filter(invoice_line__isnull=True)
        .select_related("matter", "client")
        .order_by("paid_date", "id")
    )


def fee_lines_unadvanced(invoice_ids: list[int] | None = None) -> QuerySet[Any]:
    """Government fees on invoices not yet issued (of ``invoice_ids`` when given) that are to be
    billed as firm advances but have no unbilled advance of their matter and code: issue refuses
    them until it is recorded."""
    from django.db.models import Exists, OuterRef

    from caseledger.billing.choices import EDITABLE_STATUSES, FeePath, LineKind
    from caseledger.billing.models import FeeAdvance, InvoiceLine

    advanced = FeeAdvance.objects.filter(
        matter_id=OuterRef("invoice__matter_id"),
        fee_code=OuterRef("fee_code"),
        invoice_line__isnull=True,
    )
    lines = InvoiceLine.objects.filter(
        kind=LineKind.GOVERNMENT_FEE,
        invoice__status__in=EDITABLE_STATUSES,
        fee_path__in=[FeePath.FIRM_ADVANCE, ""],
        amount_cents__gt=0,
    )
    if invoice_ids is not None:
        lines = lines.filter(invoice_id__in=invoice_ids)
    return (
        lines.annotate(advanced=Exists(advanced))
        .filter(advanced=False)
        .select_related("invoice", "invoice__matter", "invoice__client")
        .order_by("invoice__created_at", "invoice_id", "position", "id")
    )


def fee_lines_from_trust_or_client() -> QuerySet[Any]:
    """Government-fee lines shown for information (paid from trust or by the client)."""
    from caseledger.billing.choices import INFORMATION_ONLY_PATHS, LineKind
    from caseledger.billing.models import InvoiceLine

    return (
        InvoiceLine.objects.filter(
            kind=LineKind.GOVERNMENT_FEE, fee_path__in=list(INFORMATION_ONLY_PATHS)
        )
        .exclude(invoice__status="VOID")
        .select_related("invoice", "invoice__matter")
        .order_by("-invoice__created_at", "id")
    )


def _models() -> Any:
    from caseledger.billing import models

    return models


def fee_charged_elsewhere(*, matter_id: int, fee_code: str) -> str | None:
    """For the trust app: the issued invoice or the fee advance that already charges the
    client ``fee_code`` on the matter (for people), or None."""
    line = (
        _models()
        .InvoiceLine.objects.filter(
            invoice__matter_id=matter_id,
            invoice__status="ISSUED",
            kind="GOVERNMENT_FEE",
            fee_code=fee_code,
            amount_cents__gt=0,
        )
        .select_related("invoice")
        .order_by("id")
        .first()
    )
    if line is not None:
        return f"billed on invoice {line.invoice.number}"
    advance = (
        _models()
        .FeeAdvance.objects.filter(matter_id=matter_id, fee_code=fee_code)
        .order_by("id")
        .first()
    )
    if advance is not None:
        amount = _money(advance.amount_cents)
        return f"advanced by the firm ({advance}, {amount} on {advance.paid_date})"
    return None


def matter_fee_codes_charged(*, matter_id: int) -> list[str]:
    """The fee codes billed (issued, amount due) or advanced by the firm on the matter."""
    billed = (
        _models()
        .InvoiceLine.objects.filter(
            invoice__matter_id=matter_id,
            invoice__status="ISSUED",
            kind="GOVERNMENT_FEE",
            amount_cents__gt=0,
        )
        .values_list("fee_code", flat=True)
    )
    advanced = (
        _models().FeeAdvance.objects.filter(matter_id=matter_id).values_list("fee_code", flat=True)
    )
    return sorted({code or "uncoded" for code in [*billed, *advanced]})


def _money(cents: int) -> str:
    from caseledger.core.amounts import firm_money

    return firm_money(cents)
