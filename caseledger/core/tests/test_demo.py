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
    call_command("seed_demo", stdout=StringIO())
    first = _row_counts()
    assert first["core.User"] == 10
    assert first["matters.Matter"] > 100
    assert Firm.objects.get(id=1).name == "Raman & Okafor Immigration LLP"
    _banking_demo_matched()

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
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "chain intact" in out.getvalue()


def _banking_demo_matched() -> None:
    """Banking's late seed: the trust statement drawn from the trust journal is auto-matched
    (a deposit slip to its two receipts among them) except the interest and the wire fee."""
    from caseledger.banking import selectors
    from caseledger.banking.models import BankAccount, LineMatch

    trust = BankAccount.objects.get(name="IOLTA trust")
    assert LineMatch.objects.filter(line__bank_account=trust).count() >= 5
    left = sorted(line.description for line in selectors.lines_open(trust))
    assert left == ["Incoming wire fee", "Interest IOLTA (remitted to the bar foundation)"]
    assert any(
        len(m.line.details) == 2
        for m in LineMatch.objects.filter(line__bank_account=trust).select_related("line")
    )
