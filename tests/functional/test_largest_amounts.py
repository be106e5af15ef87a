"""One matter filled with the largest amounts the firm allows (every single amount at the
ceiling, many of them, so every total and running balance is far above any single-amount
limit), then every money page opened as every role: none answers 500. Each page's time is
recorded and printed (run with -s to see the table).

Also: data stored before the ceiling existed (a deposit of 99,999,999,999, twice) leaves every
page working: the money type has no magnitude limit for sums and running balances."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from caseledger.billing import services as billing
from caseledger.billing.choices import ExpenseKind
from caseledger.billing.tests.factories import advance_fees, build_world
from caseledger.core.choices import Role
from caseledger.core.models import Firm
from caseledger.core.money import DEFAULT_CEILING_MINOR_UNITS
from caseledger.credits import services as credits
from caseledger.credits.choices import ReasonCode
from caseledger.payments import services as payments
from caseledger.payments.choices import PaymentMethod
from caseledger.trust import services as trust
from caseledger.trust.choices import DepositMethod, DisbursementMethod, DisbursementPurpose
from caseledger.trust.services import common as trust_common

pytestmark = pytest.mark.django_db

CEILING = DEFAULT_CEILING_MINOR_UNITS  # $10,000,000.00
COUNT = 6  # of each kind: totals reach 6-12x the ceiling
OLD = date(2026, 10, 1)


def _deposit(matter: Any, cents: int, now: Any, n: int) -> Any:
    return trust.deposit_record(
        client=matter.client,
        matter=matter,
        method=DepositMethod.WIRE,
        payer="Acme Corp",
        amount_cents=cents,
        received_date=OLD,
        reference=f"W-{n}",
        actor=None,
        now=now,
    )


def _fill(world: Any) -> dict[str, Any]:
    """Deposits, expenses, invoice lines, payments, a trust transfer, a credit note, a write-off
    and a disbursement, each at the ceiling."""
    now, matter = world.now, world.matter
    deposits = [_deposit(matter, CEILING, now, n) for n in range(COUNT)]
    for n in range(COUNT):
        billing.expense_create(
            matter=matter,
            kind=ExpenseKind.COST_ADVANCE if n % 2 else ExpenseKind.EXPENSE,
            expense_date=OLD,
            description=f"Largest expense {n}",
            amount=CEILING,
            actor=world.billing,
            now=now,
        )
    invoice = billing.invoice_draft_create(
        matter=matter,
        actor=world.billing,
        now=now,
        template=world.template,
        include_unbilled=True,
    )
    for n in range(COUNT):
        billing.invoice_line_add(
            invoice=invoice,
            description=f"Largest fee {n}",
            unit_price=CEILING,
            actor=world.billing,
            now=now,
        )
    advance_fees(invoice, actor=world.billing, now=now)  # the firm paid USCIS (ADR 011)
    billing.invoice_submit(invoice=invoice, actor=world.billing, now=now)
    billing.invoice_approve(invoice=invoice, actor=world.partner, now=now)
    invoice = billing.invoice_issue(invoice=invoice, actor=world.billing, now=now)
    assert invoice.total_cents > 2 * COUNT * CEILING
    paid = [
        payments.payment_record(
            client=matter.client,
            matter=matter,
            method=PaymentMethod.WIRE,
            payer="Acme Corp",
            reference=f"P-{n}",
            amount_cents=CEILING,
            received_date=OLD,
            actor=world.billing,
            now=now,
        )
        for n in range(COUNT)
    ]
    trust.trust_apply_to_invoice(
        invoice=invoice, actor=world.billing, now=now, amount_cents=CEILING
    )
    credits.credit_note_request(
        invoice=invoice,
        reason_code=ReasonCode.COURTESY_DISCOUNT,
        reason_text="Largest credit",
        amount_cents=CEILING,
        actor=world.billing,
        now=now,
    )
    credits.write_off_request(
        invoice=invoice,
        reason="Largest write-off",
        amount_cents=CEILING,
        actor=world.billing,
        now=now,
    )
    trust.disbursement_request(
        matter=matter,
        payee="USCIS",
        amount_cents=CEILING,
        purpose=DisbursementPurpose.FILING_FEE,
        method=DisbursementMethod.CHECK,
        fee_code="PREMIUM",  # not billed or advanced on this matter
        actor=world.attorney,
        now=now,
    )
    return {"invoice": invoice, "deposit": deposits[0], "payment": paid[0]}


def _money_pages(world: Any, made: dict[str, Any]) -> list[str]:
    matter, client = world.matter, world.matter.client
    invoice, deposit, payment = made["invoice"], made["deposit"], made["payment"]
    from caseledger.credits.models import CreditNote, WriteOff
    from caseledger.ledger.models import JournalEntry

    note = CreditNote.objects.order_by("id").last()
    write_off = WriteOff.objects.order_by("id").last()
    entry = JournalEntry.objects.order_by("id").last()
    assert note is not None
    assert write_off is not None
    assert entry is not None
    return [
        reverse("core:home"),
        reverse("trust:dashboard"),
        reverse("trust:matter", args=[matter.pk]),
        reverse("trust:client", args=[client.pk]),
        reverse("trust:statement_pdf", args=[client.pk]),
        reverse("trust:receipt_pdf", args=[deposit.pk]),
        reverse("trust:requests"),
        reverse("trust:disbursements"),
        reverse("ledger:trust_ledgers"),
        reverse("ledger:client_trust_ledger", args=[client.pk]),
        reverse("ledger:trial_balance"),
        reverse("ledger:accounts"),
        reverse("ledger:account_ledger", args=["1010"]),
        reverse("ledger:entry_detail", args=[entry.pk]),
        reverse("billing:wip"),
        reverse("billing:invoice_list"),
        reverse("billing:invoice_detail", args=[invoice.pk]),
        reverse("billing:invoice_pdf", args=[invoice.pk]),
        reverse("billing:review_queue"),
        reverse("payments:list"),
        reverse("payments:detail", args=[payment.pk]),
        reverse("credits:credit_note_list"),
        reverse("credits:credit_note_detail", args=[note.pk]),
        reverse("credits:credit_note_pdf", args=[note.pk]),
        reverse("credits:write_off_list"),
        reverse("credits:write_off_detail", args=[write_off.pk]),
        reverse("credits:report"),
        reverse("collections:aging"),
        reverse("collections:aging_invoices"),
        reverse("collections:invoice_history", args=[invoice.pk]),
        reverse("matters:detail", args=[matter.pk]),
        reverse("clients:detail", args=[client.pk]),
    ]


def _open_every_page_as_every_role(client: Any, login: Any, users: Any, pages: list[str]) -> None:
    timings: dict[str, dict[str, float]] = {}
    failures = []
    for role in Role:
        login(users[role.value])
        for url in pages:
            start = time.perf_counter()
            response = client.get(url)
            timings.setdefault(url, {})[role.value] = (time.perf_counter() - start) * 1000
            if response.status_code >= 500:
                failures.append(f"{role.value} {url}: {response.status_code}")
        client.logout()
    roles = [r.value for r in Role]
    print("\npage timings (ms) " + " ".join(f"{r[:8]:>8}" for r in roles))  # noqa: T201
    for url, by_role in timings.items():
        print(f"{url:<40} " + " ".join(f"{by_role[r]:8.1f}" for r in roles))  # noqa: T201
    assert not failures, failures


def test_a_matter_full_of_the_largest_amounts_opens_every_money_page_for_every_role(
    client, login, users, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world = build_world(users)
    assert Firm.objects.get(id=1).amount_ceiling_cents == CEILING
    made = _fill(world)
    _open_every_page_as_every_role(client, login, users, _money_pages(world, made))


def test_amounts_stored_before_the_ceiling_never_break_a_page(
    client, login, users, settings, monkeypatch
):
    """Two deposits of 99,999,999,999 (dollars), as an install accepted before the ceiling
    existed: their sum is beyond the parser's absolute limit, and every page still works."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world = build_world(users)
    monkeypatch.setattr(trust_common, "amount_check", lambda cents, **_: cents)
    for n in range(2):
        _deposit(world.matter, 9_999_999_999_900, world.now, n)
    _deposit(world.matter, 99_999_999_999, world.now, 3)
    monkeypatch.undo()
    matter, client_row = world.matter, world.matter.client
    pages = [
        reverse("core:home"),
        reverse("trust:dashboard"),
        reverse("trust:matter", args=[matter.pk]),
        reverse("trust:client", args=[client_row.pk]),
        reverse("trust:statement_pdf", args=[client_row.pk]),
        reverse("ledger:trust_ledgers"),
        reverse("ledger:client_trust_ledger", args=[client_row.pk]),
        reverse("ledger:trial_balance"),
        reverse("ledger:accounts"),
        reverse("billing:wip"),
        reverse("matters:detail", args=[matter.pk]),
        reverse("clients:detail", args=[client_row.pk]),
    ]
    login(users["ADMIN"])
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("ledger:trial_balance")).content.decode()
    assert "$200,999,999,997.99" in page  # the trust bank's debit, beyond 10^13 cents
