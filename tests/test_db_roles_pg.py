"""The application's PostgreSQL role (``manage.py db_roles``): every forbidden statement on an
append-only table fails, and the application still works through it (a deposit posts). Also the
PostgreSQL guards an owner-less attacker meets: TRUNCATE and postings into a committed entry."""

from __future__ import annotations

from datetime import date
from io import StringIO
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

pytestmark = [pytest.mark.postgres]

APPEND_ONLY = [
    "core_auditevent",
    "ledger_journalentry",
    "ledger_posting",
    "billing_invoicepdf",
    "collections_aragingfact",
    "matters_stageevent",
]


def _app_role() -> str:
    return f"{connection.settings_dict['NAME']}_app"[:60]


def _app_connection(role: str) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        dbname=s["NAME"],
        user=role,
        password="app-secret-for-tests",
        autocommit=True,
    )


@pytest.fixture
def app_role(require_postgres: Any, django_db_blocker: Any) -> str:
    role = _app_role()
    out = StringIO()
    with django_db_blocker.unblock():
        call_command("db_roles", app_role=role, app_password="app-secret-for-tests", stdout=out)
    assert f'"role": "{role}"' in out.getvalue()
    return role


PK = {"collections_aragingfact": "posting_id"}
# The retention purge's redaction (core.roles.REDACTION_GRANTS): the app role may DELETE a
# stored invoice PDF and UPDATE an audit event's payload columns; the triggers let through only
# the redaction (imports/tests/test_retention.py, core/tests/test_audit.py).
GRANTED = {("billing_invoicepdf", "DELETE")}


@pytest.mark.django_db(transaction=True)
def test_the_app_role_cannot_change_append_only_tables(app_role):
    """db_roles again (idempotent) lists the guarded tables; then, as the app role, UPDATE,
    DELETE and TRUNCATE on each append-only table, DELETE of the chain head and disabling a
    trigger all fail (one test: the transactional flush on PostgreSQL is slow)."""
    import json

    out = StringIO()
    call_command("db_roles", app_role=app_role, app_password="app-secret-for-tests", stdout=out)
    report = json.loads(out.getvalue())
    assert set(APPEND_ONLY) <= set(report["append_only"])
    assert "core_auditchainhead" in report["no_delete"]
    refused = []
    with _app_connection(app_role) as conn:
        for table in APPEND_ONLY:
            conn.execute(f"SELECT COUNT(*) FROM {table}")  # it may read
            pk = PK.get(table, "id")
            for statement in (f"UPDATE {table} SET {pk} = {pk}", f"DELETE FROM {table}",
                              f"TRUNCATE {table}"):  # fmt: skip
                if (table, statement.split()[0]) in GRANTED:
                    continue
                with pytest.raises(
                    psycopg.errors.InsufficientPrivilege, match=f"permission denied.*{table}"
                ):
                    conn.execute(statement)
                refused.append(statement.split()[0])
        # Only the payload columns of an audit event (the key columns stay refused).
        conn.execute("UPDATE core_auditevent SET after = after WHERE false")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute("UPDATE core_auditevent SET hash = hash WHERE false")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
            conn.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM core_auditchainhead")
    assert len(refused) == 3 * len(APPEND_ONLY) - len(GRANTED)


@pytest.mark.django_db(transaction=True)
def test_the_application_works_as_the_app_role(app_role, now):
    """Switch Django's own connection to the app role and post a trust deposit through the
    service: entry, postings, balances, audit event, receipt counter."""
    from caseledger.core import audit
    from caseledger.ledger.selectors import ledger_verify
    from caseledger.payments.tests.factories import MatterFactory
    from caseledger.trust.services import deposit_record

    matter = MatterFactory()
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(USER=app_role, PASSWORD="app-secret-for-tests")
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT current_user")
            assert cur.fetchone()[0] == app_role
        deposit = deposit_record(
            client=matter.client, matter=matter, method="WIRE", payer="Acme",
            amount_cents=12_345, received_date=date(2026, 10, 1), reference="W-9",
            actor=None, now=now,
        )  # fmt: skip
        assert deposit.entry.postings.count() == 2
        assert ledger_verify() == []
        assert audit.verify_chain() is None
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db
@pytest.mark.parametrize("table", [*APPEND_ONLY, "core_auditchainhead", "payments_payment"])
def test_truncate_is_refused_even_to_the_owner(require_postgres, table):
    with pytest.raises(DatabaseError, match="TRUNCATE refused"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"TRUNCATE {table} CASCADE")


@pytest.mark.django_db(transaction=True)
def test_a_balanced_pair_cannot_enter_a_committed_entry(require_postgres, now):
    from caseledger.ledger import accounts as A
    from caseledger.ledger.models import Account
    from caseledger.ledger.tests import helpers as H
    from caseledger.payments.tests.factories import MatterFactory

    matter = MatterFactory()
    entry = H.deposit(matter=matter, cents=10_000, now=now, day=date(2026, 10, 1))
    bank = Account.objects.get(code=A.OPERATING_BANK).pk
    revenue = Account.objects.get(code=A.FEE_REVENUE).pk

    def insert_pair() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            for account, cents in ((bank, 500), (revenue, -500)):
                cur.execute(
                    "INSERT INTO ledger_posting (entry_id, account_id, amount_cents, entry_date) "
                    "VALUES (%s, %s, %s, '2026-10-01')",
                    [entry.pk, account, cents],
                )

    with pytest.raises(DatabaseError, match="created by another transaction"):
        insert_pair()
    assert entry.postings.count() == 2
