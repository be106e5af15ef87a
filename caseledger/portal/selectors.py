"""Portal reads. Every query starts from the signed-in client user's own clients
(``Client.portal_users``), so another client's matter, invoice or request is simply not found
(404), whatever id is typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.clients.choices import ClientKind
from caseledger.clients.models import Beneficiary, Client
from caseledger.core.context import memoized
from caseledger.credits.choices import CreditNoteStatus
from caseledger.credits.models import CreditNote, CreditRefund
from caseledger.matters.choices import CLIENT_DEADLINE_KINDS, TaskStatus
from caseledger.matters.models import Deadline, Matter, MatterDocument, Task
from caseledger.matters.selectors import matter_timeline
from caseledger.payments import selectors as payment_selectors
from caseledger.payments.choices import PaymentStatus
from caseledger.payments.models import Payment, PaymentAllocation
from caseledger.portal.models import PortalMessage
from caseledger.trust import selectors as trust_selectors
from caseledger.trust.choices import TrustRequestStatus
from caseledger.trust.models import TrustRequest


def clients_of(user: Any) -> QuerySet[Client]:
    """The clients the user acts for (a person client, or a contact of a company client). A
    beneficiary's login acts for none: every invoice, payment, trust and credit read below
    starts here, so a beneficiary reaches none of them."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Client.objects.none()
    return Client.objects.filter(portal_users=user).order_by("name", "id")


def beneficiaries_of(user: Any) -> QuerySet[Beneficiary]:
    """The beneficiaries the user signs in as (the foreign national of a company's petition)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Beneficiary.objects.none()
    return Beneficiary.objects.filter(portal_users=user).order_by("name", "id")


def portal_clients(user: Any) -> list[Client]:
    """``clients_of`` loaded, read once per reading request (``core.context.memoized``): the
    page's frame, its language and its reads all start from them."""
    if not getattr(user, "is_authenticated", False):
        return []
    return memoized(("portal.clients", user.pk), lambda: list(clients_of(user)))


def _beneficiary_grants(user: Any) -> dict[int, bool]:
    """The user's beneficiaries' ids, each with whether its company granted it its account, read
    once per reading request."""
    if not getattr(user, "is_authenticated", False):
        return {}
    return memoized(
        ("portal.beneficiaries", user.pk),
        lambda: dict(beneficiaries_of(user).order_by().values_list("pk", "account_access_granted")),
    )


def is_beneficiary_only(user: Any) -> bool:
    """True for a beneficiary's login that acts for no client: it sees its own cases (status,
    dates, what the firm needs from them) and nothing of the employer's money or other matters."""
    return not portal_clients(user) and bool(_beneficiary_grants(user))


def granted_matters_of(user: Any) -> QuerySet[Matter]:
    """The company matters of a beneficiary's login whose company granted that beneficiary its
    account (``Beneficiary.account_access_granted``): their invoices and trust are shown to the
    beneficiary, never those of the employer's other matters."""
    granted = beneficiaries_of(user).filter(account_access_granted=True)
    return Matter.objects.filter(
        beneficiary__in=granted,
        client__kind=ClientKind.COMPANY,
        client_id=F("beneficiary__client_id"),
    )


def account_granted(user: Any) -> bool:
    """True when a company granted this beneficiary's login the account of its own matters."""
    return any(_beneficiary_grants(user).values())


def company_beneficiaries_of(user: Any) -> QuerySet[Beneficiary]:
    """The beneficiaries of the user's company clients (a contact decides what each sees)."""
    return (
        Beneficiary.objects.filter(client__in=clients_of(user), client__kind=ClientKind.COMPANY)
        .select_related("client")
        .prefetch_related("portal_users", "matters")
        .order_by("name", "id")
    )


def company_beneficiary_of(user: Any, pk: int) -> Beneficiary:
    return get_object_or_404(company_beneficiaries_of(user), pk=pk)


def _client_ids(user: Any) -> list[int]:
    return [c.pk for c in portal_clients(user)]


def _granted_ids(user: Any) -> list[int]:
    """The ids of ``granted_matters_of`` (none to read without a granted beneficiary), read once
    per reading request: a portal page asks for them from several reads."""
    if not account_granted(user):
        return []
    return memoized(
        ("portal.granted", user.pk),
        lambda: list(granted_matters_of(user).order_by().values_list("pk", flat=True)),
    )


def _clients_or_granted(user: Any) -> Q:
    """Rows of the user's clients, or of a granted beneficiary's own matters (by ``client_id``
    and ``matter_id``)."""
    scope = Q(client_id__in=_client_ids(user))
    granted = _granted_ids(user)
    if granted:
        scope |= Q(matter_id__in=granted)
    return scope


def matters_of(user: Any) -> QuerySet[Matter]:
    """The user's clients' matters, and the company-paid matters whose beneficiary the user is
    (that beneficiary's own cases only, not the employer's other matters).

    The scope's ids are read first (a person has a few clients and beneficiaries): the reads
    here and below then filter by lists of ids, which PostgreSQL looks up in the foreign keys'
    indexes, where an OR of two subqueries made it walk the whole table (the portal's invoices:
    229 ms at 200,062 invoices, against under 1 ms)."""
    scope = Q(client_id__in=_client_ids(user))
    beneficiary_ids = list(_beneficiary_grants(user))
    if beneficiary_ids:
        scope |= Q(beneficiary_id__in=beneficiary_ids, client__kind=ClientKind.COMPANY)
    return (
        Matter.objects.filter(scope)
        .select_related("client", "case_type", "current_stage", "beneficiary")
        .order_by("-opened_date", "id")
    )


def case_list(user: Any) -> list[Matter]:
    """``matters_of`` for the home page's list, which shows each case's type and stage: without
    the client's and beneficiary's rows (a client row is wide, with encrypted fields)."""
    return list(matters_of(user).select_related(None).select_related("case_type", "current_stage"))


def thread_visible(user: Any, matter: Matter) -> bool:
    """The message thread of a matter is between the firm and the client that pays for it: a
    beneficiary who is not that client's portal user does not read it (it is the employer's)."""
    return matter.client_id in _client_ids(user)


def matter_of(user: Any, pk: int) -> Matter:
    return get_object_or_404(matters_of(user), pk=pk)


def invoices_of(user: Any) -> QuerySet[Invoice]:
    """The client's issued invoices (drafts never show; void ones do, marked), and for a
    beneficiary with the company's grant those of their own matters."""
    scope = _clients_or_granted(user)
    return (
        Invoice.objects.filter(scope)
        .filter(status__in=[InvoiceStatus.ISSUED, InvoiceStatus.VOID])
        .select_related("matter", "client")
        .order_by("-issue_date", "-id")
    )


def invoice_of(user: Any, pk: int) -> Invoice:
    return get_object_or_404(invoices_of(user), pk=pk)


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice
    money: payment_selectors.InvoiceMoney

    @property
    def payable(self) -> bool:
        return self.invoice.status == InvoiceStatus.ISSUED and self.money.balance_due_cents > 0


def invoice_rows(user: Any, today: date) -> list[InvoiceRow]:
    """The invoices page's rows: each invoice with its matter (not its client's wide row) and
    its money."""
    invoices = invoices_of(user).select_related(None).select_related("matter")
    return [
        InvoiceRow(inv, money)
        for inv, money in payment_selectors.invoices_with_money(invoices, as_of=today)
    ]


def balance_due(user: Any) -> tuple[int, int]:
    """The cents due on the user's payable invoices (``InvoiceRow.payable``) and how many they
    are, summed in the database."""
    return payment_selectors.balance_due_totals(invoices_of(user))


def payments_of(user: Any) -> QuerySet[Payment]:
    """The client's payments; for a granted beneficiary, the payments applied only to invoices
    of their own matters (one that also paid another matter's invoice names it, so it stays
    the company's)."""
    scope = Q(client_id__in=_client_ids(user))
    granted = _granted_ids(user)
    if granted:
        own = (
            Payment.objects.filter(allocations__invoice__matter_id__in=granted)
            .exclude(allocations__invoice__in=Invoice.objects.exclude(matter_id__in=granted))
            .values("pk")
        )
        scope |= Q(pk__in=own)
    return (
        Payment.objects.filter(scope)
        .exclude(status__in=[PaymentStatus.HELD, PaymentStatus.REJECTED])
        .prefetch_related(
            Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("invoice"))
        )
        .order_by("-received_date", "-id")
    )


@dataclass(frozen=True)
class CaseView:
    matter: Matter
    timeline: list[dict[str, Any]]
    next_stage: Any
    receipts: list[Any]
    deadlines: list[Deadline]
    tasks: list[Task]


def case_view(matter: Matter) -> CaseView:
    """A matter as the client sees it: the stages done, current and next; receipt numbers; the
    deadlines that concern them; what the firm needs from them (tasks for the client)."""
    timeline = matter_timeline(matter)
    current_seen = False
    next_stage = None
    for row in timeline:
        if row["state"] == "current":
            current_seen = True
        elif current_seen and row["state"] == "todo" and next_stage is None:
            next_stage = row["stage"]
    deadlines = list(
        Deadline.objects.filter(
            matter=matter, kind__in=CLIENT_DEADLINE_KINDS, met_at__isnull=True
        ).order_by("due_date", "id")
    )
    tasks = list(
        Task.objects.filter(matter=matter, assignee_role="CLIENT", status=TaskStatus.OPEN).order_by(
            "due_date", "id"
        )
    )
    return CaseView(
        matter=matter,
        timeline=timeline,
        next_stage=next_stage,
        receipts=list(matter.receipts.order_by("received_date", "id")),
        deadlines=deadlines,
        tasks=tasks,
    )


def client_tasks_open(user: Any) -> QuerySet[Task]:
    return (
        Task.objects.filter(
            matter__in=matters_of(user), assignee_role="CLIENT", status=TaskStatus.OPEN
        )
        .select_related("matter")
        .order_by("due_date", "id")
    )


def trust_positions(user: Any, today: date) -> list[trust_selectors.TrustPosition]:
    """Trust per matter (balance, of which uncleared, disputed, available) for every matter of
    the user's clients that holds or held trust money, in a fixed number of queries (trust's own
    grouped reads, as on the staff client page, once for all the clients' matters)."""
    from caseledger.core.panels import PanelScope
    from caseledger.trust.panels import trust_positions as grouped_positions

    client_ids = _client_ids(user)
    # A granted beneficiary: their own matters' positions at their company (not the others').
    granted = set(_granted_ids(user))
    # The page shows each matter's number and title: none of its related rows.
    matters = [
        m
        for m in matters_of(user).select_related(None)
        if m.client_id in client_ids or m.pk in granted
    ]
    # Client by client (the user's in name order, then the granting companies), each client's
    # matters in the order read.
    rank = {pk: i for i, pk in enumerate(client_ids)}
    for m in matters:
        rank.setdefault(m.client_id, len(rank))
    matters.sort(key=lambda m: rank[m.client_id])
    scope = PanelScope(
        page="client",
        client=None,
        matter=None,
        matter_ids=[m.pk for m in matters],
        today=today,
        matters=matters,
    )
    return grouped_positions(scope)


def trust_held(user: Any) -> int:
    """The sum of ``trust_positions``' balances, in one statement: the trust balance rows of
    the matters those positions are of (the user's clients', a granted beneficiary's own)."""
    from caseledger.ledger.selectors import client_trust_balances

    scope = _clients_or_granted(user)
    total = (
        client_trust_balances()
        .filter(scope, client_id=F("matter__client_id"))
        .order_by()
        .aggregate(total=Sum("held_cents"))["total"]
    )
    return int(total or 0)


def trust_requests_open(user: Any) -> QuerySet[TrustRequest]:
    return (
        TrustRequest.objects.filter(
            client__in=clients_of(user),
            status__in=[TrustRequestStatus.OPEN, TrustRequestStatus.PARTIALLY_PAID],
        )
        .select_related("matter")
        .order_by("due_date", "id")
    )


def trust_request_of(user: Any, pk: int) -> TrustRequest:
    return get_object_or_404(TrustRequest.objects.filter(client__in=clients_of(user)), pk=pk)


def statement_lines(
    client: Client, date_from: date, date_to: date
) -> tuple[int, list[trust_selectors.StatementLine]]:
    """The client's trust movements in the period and the balance held before it."""
    lines = trust_selectors.client_trust_movements(client)
    opening = sum(line.amount_cents for line in lines if line.day < date_from)
    return opening, [line for line in lines if date_from <= line.day <= date_to]


def credit_notes_of(user: Any) -> QuerySet[CreditNote]:
    return (
        CreditNote.objects.filter(client__in=clients_of(user), status=CreditNoteStatus.ISSUED)
        .select_related("invoice", "matter")
        .order_by("-issue_date", "-id")
    )


def credit_notes_to_authorize(user: Any) -> list[CreditNote]:
    """Credit notes of the user's clients that refund them and wait for their authorization."""
    from caseledger.portal.models import RefundAuthorization

    waiting = (
        CreditNote.objects.filter(
            client__in=clients_of(user),
            status=CreditNoteStatus.PENDING_APPROVAL,
            refund_cents__gt=0,
        )
        .exclude(pk__in=RefundAuthorization.objects.values("credit_note_id"))
        .select_related("invoice", "matter")
        .order_by("requested_at", "id")
    )
    return list(waiting)


def credit_note_to_authorize(user: Any, pk: int) -> CreditNote:
    return get_object_or_404(
        CreditNote.objects.filter(client__in=clients_of(user)).select_related("client"), pk=pk
    )


def authorizations_for_client(client: Client) -> list[Any]:
    from caseledger.portal.models import RefundAuthorization

    return list(
        RefundAuthorization.objects.filter(credit_note__client=client)
        .select_related("credit_note", "authorized_by")
        .order_by("-authorized_at", "-id")
    )


def refunds_of(user: Any) -> QuerySet[CreditRefund]:
    return (
        CreditRefund.objects.filter(client__in=clients_of(user))
        .select_related("credit_note", "matter")
        .order_by("-refund_date", "-id")
    )


def thread(matter: Matter) -> QuerySet[PortalMessage]:
    return (
        PortalMessage.objects.filter(matter=matter)
        .select_related("author")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class SharedDocument:
    """A document shared on one of the user's matters, with its signed download link (made for
    this user, valid for ``matters.documents.DOCUMENT_LINK_MINUTES``)."""

    document: MatterDocument
    url: str


def shared_documents(user: Any, matter: Matter, now: datetime) -> list[SharedDocument]:
    from django.urls import reverse

    from caseledger.matters import documents

    return [
        SharedDocument(
            document=doc,
            url=reverse(
                "portal:document_download",
                args=[documents.document_token(document=doc, user=user, at=now)],
            ),
        )
        for doc in documents.shared_documents([matter.pk])
    ]


def shared_document_of(user: Any, pk: int) -> MatterDocument:
    """A document shared on one of the user's matters (404 otherwise: another client's, or no
    longer shared)."""
    from caseledger.matters import documents

    return get_object_or_404(documents.shared_documents(matters_of(user)), pk=pk)
