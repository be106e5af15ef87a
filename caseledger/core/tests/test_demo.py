"""``manage.py seed_demo`` across every app: the demo firm loads, a rerun changes nothing, and the
books and the audit chain it leaves verify."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from caseledger.core.models import Firm


def _row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_verifies():
    _matter_ids_start_after(2)
    call_command("seed_demo", stdout=StringIO())
    first = _row_counts()
    # One login per role, the portal's Spanish client and a company petition's beneficiary.
    assert first["core.User"] == 12
    _beneficiary_login_sees_one_case()
    assert first["matters.Matter"] > 100
    assert Firm.objects.get(id=1).name == "Raman & Okafor Immigration LLP"
    _banking_demo_matched()
    _issue_numbers_follow_issue_dates()
    _approved_invoices_issue()

    # The administrator turns two-factor enforcement on; a rerun must not undo it.
    Firm.objects.filter(id=1).update(two_factor_enforced=True, phone="+1 415 555 0199")
    call_command("seed_demo", stdout=StringIO())
    assert _row_counts() == first
    firm = Firm.objects.get(id=1)
    assert firm.two_factor_enforced is True
    assert firm.phone == "+1 415 555 0199"

    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "every balance matches its postings" in out.getvalue()
    _assert_trial_balance_reads_as_an_accountant_expects()
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "chain intact" in out.getvalue()


def _matter_ids_start_after(last: int) -> None:
    """Start the matters' primary keys after ``last``, as on a database that held rows before
    (a test run's earlier tests): the demo firm must not depend on them starting at 1."""
    from django.db import connection

    from caseledger.matters.models import Matter

    table = Matter._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, last])
        else:
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, last])


def _issue_numbers_follow_issue_dates() -> None:
    """The history is issued in time order: no invoice number is dated before the one it follows,
    and no invoice waited months between approval and issue (trust-paid fees are a month old)."""
    from datetime import timedelta

    from caseledger.billing.models import Invoice

    issued = list(
        Invoice.objects.exclude(issue_date=None)
        .exclude(number__startswith="L-")  # imported history keeps its own numbers
        .order_by("number")
        .values_list("number", "issue_date", "approved_at", "issued_at")
    )
    assert len(issued) > 50
    dates = [row[1] for row in issued if row[1] is not None]
    assert dates == sorted(dates)
    waits = [row[3] - row[2] for row in issued if row[2] is not None and row[3] is not None]
    assert max(waits) < timedelta(days=31)


def _approved_invoices_issue() -> None:
    """The partner's guide approves a draft from the review queue and billing's issues it: the
    queue holds drafts whose government fees need no advance, and every invoice the demo leaves
    approved issues as it stands. Each issue is rolled back."""
    from django.db import transaction

    from caseledger.billing import selectors, services
    from caseledger.billing.choices import InvoiceStatus
    from caseledger.billing.models import Invoice
    from caseledger.core import clock
    from caseledger.core.models import User

    in_review = set(
        Invoice.objects.filter(status=InvoiceStatus.IN_REVIEW).values_list("pk", flat=True)
    )
    waiting = set(
        selectors.fee_lines_unadvanced(list(in_review)).values_list("invoice_id", flat=True)
    )
    assert in_review - waiting, "no draft in the review queue is ready to issue once approved"
    billing = User.objects.get(username="billing")
    for invoice in Invoice.objects.filter(status=InvoiceStatus.APPROVED).order_by("id"):
        with transaction.atomic():
            services.invoice_issue(invoice=invoice, actor=billing, now=clock.now())
            transaction.set_rollback(True)


def _beneficiary_login_sees_one_case() -> None:
    """The demo's ``beneficiary`` login is a beneficiary of a company client's petition, not a
    portal user of the company (portal.demo)."""
    from caseledger.clients.models import Beneficiary, Client
    from caseledger.core.models import User
    from caseledger.portal import selectors

    user = User.objects.get(username="beneficiary")
    assert user.check_password("caseledger-demo")
    (beneficiary,) = Beneficiary.objects.filter(portal_users=user)
    assert beneficiary.client.kind == "COMPANY"
    assert not Client.objects.filter(portal_users=user).exists()
    assert selectors.is_beneficiary_only(user)
    matters = list(selectors.matters_of(user))
    assert matters
    assert {m.beneficiary_id for m in matters} == {beneficiary.pk}


def _banking_demo_matched() -> None:
    """Banking's late seed: the trust statements drawn from the trust journal are auto-matched
    (a deposit slip to its two receipts among them) except last month's interest and bank fee,
    and every month before last is signed."""
    from caseledger.banking import selectors
    from caseledger.banking.models import BankAccount, LineMatch

    trust = BankAccount.objects.get(name="IOLTA trust")
    assert LineMatch.objects.filter(line__bank_account=trust).count() >= 5
    left = sorted(line.description for line in selectors.lines_open(trust))
    assert left == [
        "Interest IOLTA (remitted to the bar foundation)",
        "Monthly account service fee",
    ]
    assert any(
        len(m.line.details) == 2
        for m in LineMatch.objects.filter(line__bank_account=trust).select_related("line")
    )
    assert trust.reconciliations.filter(status="SIGNED").exists()


def _assert_trial_balance_reads_as_an_accountant_expects() -> None:
    """No account on its wrong side (1300 client cost advances above all: ADR 011), and the
    demo's government fees follow the three paths."""
    from caseledger.billing.choices import FeePath
    from caseledger.billing.models import FeeAdvance, InvoiceLine
    from caseledger.ledger.selectors import trial_balance

    tb = trial_balance()
    assert tb.balanced
    wrong_side = [(r.account.code, r.balance_cents) for r in tb.rows if r.balance_cents < 0]
    assert wrong_side == []
    paths = set(
        InvoiceLine.objects.filter(invoice__status="ISSUED", kind="GOVERNMENT_FEE").values_list(
            "fee_path", flat=True
        )
    )
    assert paths == {FeePath.FIRM_ADVANCE, FeePath.FROM_TRUST, FeePath.CLIENT_DIRECT}
    billed = InvoiceLine.objects.filter(
        invoice__status="ISSUED", fee_path=FeePath.FIRM_ADVANCE, amount_cents__gt=0
    )
    assert billed.count() == FeeAdvance.objects.filter(invoice_line__in=billed).count()
