"""What paid an invoice and can take back part of a credit (payments, trust transfers), and the
rule that a refund goes back the way the money came (not part of the public API)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max, Sum
from django.db.models.functions import Coalesce

from caseledger.billing.models import Invoice
from caseledger.core.amounts import firm_money
from caseledger.credits import exceptions as E
from caseledger.credits.choices import RefundMethod, RefundSource
from caseledger.credits.models import CreditNoteSource


@dataclass(frozen=True)
class CreditSource:
    """Money that paid the invoice and can take back part of a credit: one payment's allocations
    to the invoice, or the trust transfers to it."""

    kind: str  # RefundSource.OPERATING (a payment) or RefundSource.TRUST
    payment_id: int | None
    available_cents: int


def invoice_credit_sources(invoice: Invoice) -> list[CreditSource]:
    """What paid ``invoice`` and is not yet taken back by earlier credit notes: payments (newest
    first), then trust transfers."""
    from caseledger.payments.models import PaymentAllocation
    from caseledger.trust.models import TrustTransfer

    taken: dict[tuple[str, int | None], int] = {}
    for row in (
        CreditNoteSource.objects.filter(credit_note__invoice=invoice)
        .values("kind", "payment_id")
        .annotate(total=Sum("amount_cents"))
    ):
        taken[(row["kind"], row["payment_id"])] = int(row["total"])
    sources = []
    paid_by_payment = (
        PaymentAllocation.objects.filter(invoice=invoice)
        .values("payment_id")
        .annotate(total=Sum("amount_cents"), last=Max("id"))
        .order_by("-last")
    )
    for paid in paid_by_payment:
        left = int(paid["total"]) - taken.get((RefundSource.OPERATING, paid["payment_id"]), 0)
        if left > 0:
            sources.append(CreditSource(RefundSource.OPERATING, paid["payment_id"], left))
    trust_total = TrustTransfer.objects.filter(invoice=invoice).aggregate(
        s=Coalesce(Sum("amount_cents"), 0)
    )["s"]
    trust_left = int(trust_total) - taken.get((RefundSource.TRUST, None), 0)
    if trust_left > 0:
        sources.append(CreditSource(RefundSource.TRUST, None, trust_left))
    return sources


def refund_capacity(sources: list[CreditSource], credit_cents: int) -> dict[str, int]:
    """How much of ``credit_cents`` lands on each kind of source (same order as on issue)."""
    out = {RefundSource.OPERATING.value: 0, RefundSource.TRUST.value: 0}
    remaining = credit_cents
    for source in sources:
        take = min(remaining, source.available_cents)
        out[source.kind] += take
        remaining -= take
    return out


def check_refund_route(
    *, invoice: Invoice, method: str, refund_cents: int, credit_cents: int
) -> None:
    """Refunds go back where the money came from: trust-paid money only through a trust
    disbursement, operating money by check, transfer or card."""
    capacity = refund_capacity(invoice_credit_sources(invoice), credit_cents)
    if method == RefundMethod.TRUST:
        if refund_cents > capacity[RefundSource.TRUST]:
            raise E.CreditError(
                E.REFUND_TRUST_NOT_FROM_TRUST.format(invoice=invoice), field="refund_method"
            )
        return
    if refund_cents > capacity[RefundSource.OPERATING]:
        if capacity[RefundSource.TRUST]:
            raise E.CreditError(
                E.REFUND_TRUST_BYPASS.format(
                    invoice=invoice, method=RefundMethod(method).label.lower()
                ),
                field="refund_method",
            )
        raise E.CreditError(
            E.REFUND_OVER_CLIENT_CREDIT.format(
                refund=firm_money(refund_cents), credit=firm_money(capacity[RefundSource.OPERATING])
            ),
            field="refund",
        )
