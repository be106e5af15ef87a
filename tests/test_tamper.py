"""Issue 14, "tamper-evident by construction": each tamper an attacker with database access
could try, and the check of ``manage.py verify`` / ``verify_audit`` that catches it.

Tampers run as raw SQL with the table's triggers switched off inside the test (SQLite: dropped
and recreated; PostgreSQL: the owner role disables them), as an attacker who owns the database
would; the guards that refuse the same statements outright are tested separately."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from caseledger.collections.services.aging_facts import aging_buckets_rebuild
from caseledger.core import audit
from caseledger.core.anchors import anchor_path, audit_anchor
from caseledger.core.models import AuditEvent
from caseledger.credits.tests import factories as F
from caseledger.ledger import accounts as A
from caseledger.ledger.models import Account, JournalEntry
from caseledger.payments.models import InvoiceSettlement
from caseledger.trust.services import deposit_record

pytestmark = pytest.mark.django_db


@contextmanager
def triggers_off(*tables: str) -> Iterator[Any]:
    """Run raw SQL on ``tables`` with their triggers off, as the database's owner (SQLite) or a
    superuser (PostgreSQL) could."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            saved = []
            for table in tables:
                cur.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [table],
                )
                saved += cur.fetchall()
            for name, _sql in saved:
                cur.execute(f"DROP TRIGGER {name}")
            try:
                yield cur
            finally:
                for _name, sql in saved:
                    cur.execute(sql)
        else:
            # A superuser's switch (ALTER TABLE ... DISABLE TRIGGER would wait for the test
            # transaction's pending deferred checks).
            cur.execute("SET session_replication_role = replica")
            try:
                yield cur
            finally:
                cur.execute("SET session_replication_role = DEFAULT")


def run(command: str) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(command, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def problems(output: str) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [r for r in rows if "problem" in r]


@pytest.fixture
def firm(users: dict[str, Any], now: Any) -> dict[str, Any]:
    # The aging buckets kept (as of 09-30) from the start, as the hourly roll keeps them.
    aging_buckets_rebuild(date(2026, 9, 30))
    m = F.matter(partner=users["PARTNER"])
    invoice = F.invoice(matter_obj=m, cents=100_000, issued=date(2026, 9, 1), due=date(2026, 10, 1))
    payment = F.pay(invoice_obj=invoice, cents=30_000, day=date(2026, 9, 5))
    deposit = deposit_record(
        client=m.client,
        matter=m,
        method="WIRE",
        payer="Acme",
        amount_cents=50_000,
        received_date=date(2026, 9, 6),
        reference="W-1",
        actor=None,
        now=now,
    )
    # A ledger-only entry (no payment or deposit row mirrors it): the target of the forged pair.
    plain = F.trust_deposit(matter_obj=m, cents=1_000, day=date(2026, 9, 7))
    return {"matter": m, "invoice": invoice, "payment": payment, "deposit": deposit, "plain": plain}


def test_an_untouched_firm_verifies(firm):
    code, out = run("verify")
    assert problems(out) == []
    assert code == 0
    assert '"verify": "ok"' in out


def _settlement(firm, cur):
    s = InvoiceSettlement.objects.get(invoice=firm["invoice"])
    cur.execute("UPDATE payments_invoicesettlement SET paid_cents = 40000 WHERE id = %s", [s.pk])
    return "invoices", f"invoice {firm['invoice'].number}"


def _payment(firm, cur):
    p = firm["payment"]
    cur.execute("UPDATE payments_payment SET amount_cents = 31000 WHERE id = %s", [p.pk])
    return "payments", f"payment {p.number}"


def _deposit(firm, cur):
    d = firm["deposit"]
    cur.execute("UPDATE trust_trustdeposit SET amount_cents = 5000 WHERE id = %s", [d.pk])
    return "deposits", f"trust deposit {d.receipt_number}"


def _invoice_line(firm, cur):
    inv = firm["invoice"]
    cur.execute("UPDATE billing_invoiceline SET amount_cents = 1 WHERE invoice_id = %s", [inv.pk])
    return "invoice_lines", f"invoice {inv.number}"


def _balance(firm, cur):
    bank = Account.objects.get(code=A.OPERATING_BANK)
    cur.execute(
        "UPDATE ledger_accountbalance SET balance_cents = balance_cents + 1 WHERE account_id = %s",
        [bank.pk],
    )
    return "ledger", f"account {A.OPERATING_BANK}"


def _pair_in_committed_entry(firm, cur):
    """A balanced pair of postings INSERTed into the payment's committed entry, with the balance
    rows adjusted: every sum still agrees; only the entry's audit event tells."""
    entry_id = firm["plain"].pk
    bank = Account.objects.get(code=A.OPERATING_BANK).pk
    revenue = Account.objects.get(code=A.FEE_REVENUE).pk
    for account, cents in ((bank, 5000), (revenue, -5000)):
        cur.execute(
            "INSERT INTO ledger_posting (entry_id, account_id, amount_cents, entry_date) "
            "VALUES (%s, %s, %s, %s)",
            [entry_id, account, cents, "2026-09-05"],
        )
        cur.execute(
            "UPDATE ledger_accountbalance SET balance_cents = balance_cents + %s, "
            "entry_count = entry_count + 1 WHERE account_id = %s",
            [cents, account],
        )
    return "entries_vs_audit", f"entry JE-{entry_id}: postings differ from its audit event"


def _aging_fact(firm, cur):
    cur.execute("DELETE FROM collections_aragingfact WHERE invoice_id = %s", [firm["invoice"].pk])
    return "aging", f"(id {firm['invoice'].pk})"


def _aging_open(firm, cur):
    cur.execute(
        "UPDATE collections_aragingopen SET open_cents = open_cents + 1 WHERE invoice_id = %s",
        [firm["invoice"].pk],
    )
    return "aging_open", "70001 cents open (invoice " + str(firm["invoice"].pk)


def _aging_buckets(firm, cur):
    m = firm["matter"]
    cur.execute(
        "UPDATE collections_aragingbuckets SET total_cents = total_cents + 1 WHERE matter_id = %s",
        [m.pk],
    )
    return (
        "aging_buckets",
        f"A/R buckets {m.client_id}|{m.pk} as of 2026-09-30: the table has 70001",
    )


def _audit_event(firm, cur):
    event = AuditEvent.objects.order_by("id")[3]
    cur.execute("UPDATE core_auditevent SET actor_label = 'nobody' WHERE id = %s", [event.pk])
    return "audit", f"audit event {event.pk}: content was altered"


TABLES = (
    "payments_invoicesettlement",
    "payments_payment",
    "trust_trustdeposit",
    "billing_invoiceline",
    "ledger_accountbalance",
    "ledger_posting",
    "collections_aragingfact",
    "collections_aragingbuckets",
    "core_auditevent",
)


@pytest.mark.parametrize(
    "tamper",
    [
        _settlement,
        _payment,
        _deposit,
        _invoice_line,
        _balance,
        _pair_in_committed_entry,
        _aging_fact,
        _aging_open,
        _aging_buckets,
        _audit_event,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_each_tamper_is_caught_by_verify(firm, tamper):
    with triggers_off(*TABLES) as cur:
        check, needle = tamper(firm, cur)
    code, out = run("verify")
    assert code == 1
    found = [p for p in problems(out) if p["check"] == check]
    assert any(needle in p["problem"] for p in found), out
    assert '"verify": "failed"' in out


def test_the_pair_in_a_committed_entry_passes_the_other_checks(firm):
    """What the finding said: without the audit-event check the forged pair went unseen."""
    with triggers_off(*TABLES) as cur:
        _pair_in_committed_entry(firm, cur)
    _, out = run("verify")
    assert {p["check"] for p in problems(out)} == {"entries_vs_audit"}


# -- the audit log ------------------------------------------------------------------------


def _forge(prev: AuditEvent, key_id: str, digest_of: Any) -> None:
    """Append an event the way an attacker without the key would, and move the head to it."""
    payload = {"prev": prev.hash, "action": "ledger.entry_posted"}
    digest = digest_of(json.dumps(payload).encode())
    with triggers_off("core_auditevent", "core_auditchainhead") as cur:
        cur.execute(
            "INSERT INTO core_auditevent (at, actor_label, action, object_type, object_id, "
            "object_repr, prev_hash, hash, key_id) VALUES (%s, 'system', "
            "'ledger.entry_posted', '', '', '', %s, %s, %s)",
            [prev.at, prev.hash, digest, key_id],
        )
        cur.execute("UPDATE core_auditchainhead SET last_hash = %s WHERE id = 1", [digest])


@pytest.mark.parametrize("key_id", ["", "current"])
def test_a_forged_event_without_the_key_does_not_verify(firm, key_id):
    last = AuditEvent.objects.order_by("-id").first()
    assert last is not None
    real_id = last.key_id if key_id == "current" else ""
    _forge(last, real_id, lambda b: hashlib.sha256(b).hexdigest())
    code, out = run("verify_audit")
    assert code == 1
    forged = AuditEvent.objects.order_by("-id").first()
    assert f"audit event {forged.pk}:" in out


def test_an_emptied_audit_log_in_a_firm_with_data_is_an_error(firm):
    with triggers_off("core_auditevent", "core_auditchainhead") as cur:
        cur.execute("DELETE FROM core_auditevent")
        cur.execute("DELETE FROM core_auditchainhead")
    code, out = run("verify_audit")
    assert code == 1
    assert "audit log: empty, but the firm has clients" in out


def test_cutting_the_tail_before_the_anchor_is_found(firm, now):
    anchor = audit_anchor(now=now)
    events = list(AuditEvent.objects.order_by("-id")[:5])
    assert anchor["event_id"] == events[0].pk
    with triggers_off("core_auditevent", "core_auditchainhead") as cur:
        for e in events:
            cur.execute("DELETE FROM core_auditevent WHERE id = %s", [e.pk])
        cur.execute(
            "UPDATE core_auditchainhead SET last_hash = %s WHERE id = 1", [events[-1].prev_hash]
        )
    assert audit.verify_chain() is None  # the chain alone is consistent again
    code, out = run("verify_audit")
    assert code == 1
    assert f"anchored event {events[0].pk} is missing" in out


def test_rewriting_with_the_key_and_rechaining_is_found_by_the_anchor(firm, now):
    """A superuser who also holds the audit key rewrites one event and recomputes every later
    hash: the chain verifies, the anchor does not."""
    audit_anchor(now=now)
    key_id, key = audit.signing_key()
    events = list(AuditEvent.objects.order_by("id"))
    target = events[2]
    prev = target.prev_hash
    with triggers_off("core_auditevent", "core_auditchainhead") as cur:
        for e in events[2:]:
            label = "nobody" if e.pk == target.pk else e.actor_label
            digest = audit.event_hash(
                key=key, key_id=key_id, prev_hash=prev, at=e.at, actor_id=e.actor_id,
                actor_label=label, action=e.action, object_type=e.object_type,
                object_id=e.object_id, object_repr=e.object_repr, before=e.before,
                after=e.after, ip=e.ip,
            )  # fmt: skip
            cur.execute(
                "UPDATE core_auditevent SET actor_label = %s, prev_hash = %s, hash = %s "
                "WHERE id = %s",
                [label, prev, digest, e.pk],
            )
            prev = digest
        cur.execute("UPDATE core_auditchainhead SET last_hash = %s WHERE id = 1", [prev])
    assert audit.verify_chain() is None
    code, out = run("verify_audit")
    assert code == 1
    assert "has another hash (chain rewritten)" in out


def test_an_edited_anchor_file_is_found(firm, now):
    audit_anchor(now=now)
    path = anchor_path()
    anchor = json.loads(path.read_text())
    anchor["count"] -= 1
    path.write_text(json.dumps(anchor) + "\n")
    code, out = run("verify_audit")
    assert code == 1
    assert "signature does not verify" in out


def test_anchor_is_written_logged_and_mailed_to_partners(firm, now, caplog, mailoutbox):
    from caseledger.core.models import Firm

    Firm.objects.filter(id=1).update(audit_anchor_email=True)
    with caplog.at_level("INFO", logger="caseledger.jobs"):
        code, out = run("audit_anchor")
    assert code == 0
    anchor = json.loads(out)
    assert anchor["count"] == AuditEvent.objects.count()
    assert json.loads(anchor_path().read_text().splitlines()[-1]) == anchor
    assert anchor["hash"] in caplog.text
    from caseledger.core import outbox
    from caseledger.core.models import OutboxMessage

    queued = OutboxMessage.objects.get(kind="core.audit_anchor")
    assert anchor["mac"] in queued.body
    # The command ran on the real clock: send what is due at the moment it queued the mail.
    outbox.send_due(now=queued.next_attempt_at, kind="core.audit_anchor")
    assert len(mailoutbox) == 1
    assert anchor["mac"] in mailoutbox[0].body
    code, out = run("verify_audit")
    assert code == 0
    assert f"matches the anchor of {anchor['at']}" in out


def test_old_events_verify_after_a_key_rotation(firm, settings):
    old = dict(settings.AUDIT_KEYS)
    new_key = "n" * 40
    settings.AUDIT_KEYS = {"newkey000001": new_key, **old}
    audit.record(actor=None, action="x.after_rotation", at=AuditEvent.objects.last().at)
    assert AuditEvent.objects.order_by("-id").first().key_id == "newkey000001"
    assert audit.verify_chain() is None
    settings.AUDIT_KEYS = {"newkey000001": new_key}  # the old key removed: its events fail
    broken = audit.verify_chain()
    assert broken is not None
    assert "not in CASELEDGER_AUDIT_KEY" in broken.reason


def test_sqlite_refuses_a_posting_into_an_older_entry(firm):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite guard")
    from django.db import DatabaseError, transaction

    entry = JournalEntry.objects.get(pk=firm["payment"].entry_id)
    bank = Account.objects.get(code=A.OPERATING_BANK).pk
    with pytest.raises(DatabaseError, match="only added to the entry being posted"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "INSERT INTO ledger_posting (entry_id, account_id, amount_cents, entry_date) "
                "VALUES (%s, %s, 5, '2026-09-05')",
                [entry.pk, bank],
            )


def test_the_anchor_email_is_a_firm_setting_changed_with_an_audit_event(firm, now):
    from caseledger.core import services
    from caseledger.core.models import Firm, User

    admin = User.objects.create(username="anchor-admin", role="ADMIN")
    services.firm_update(actor=admin, now=now, audit_anchor_email=True)
    assert Firm.objects.get(id=1).audit_anchor_email is True
    event = AuditEvent.objects.filter(action="firm.updated").order_by("-id").first()
    assert event is not None
    assert event.after == {"audit_anchor_email": True}
