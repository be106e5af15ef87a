"""`manage.py import_firm`: a firm's full export restores into an empty, migrated database with
every id, number, chain and balance as it was, and verifies there; a tampered, foreign or
broken export and a database with firm data are refused with nothing written."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection, transaction

from caseledger.billing import services as billing
from caseledger.billing.models import Invoice
from caseledger.billing.tests.factories import approved_draft, build_world, issued_invoice
from caseledger.core.choices import Role
from caseledger.core.models import AuditEvent, Firm, User
from caseledger.imports.exceptions import ImportRefused
from caseledger.imports.export import exported_models
from caseledger.imports.firm_import import NEWEST_ENTRY_TRIGGER, SEEDED, import_firm
from caseledger.ledger.models import AccountBalance, JournalEntry, Posting
from caseledger.trust.models import TrustSettings
from caseledger.trust.services import deposit_record

pytestmark = pytest.mark.django_db


def _firm(users: dict[str, Any], now: Any) -> Invoice:
    """A small real firm: a trust deposit, an issued invoice paid from trust in the issuing
    transaction, a second draft, an A-number (encrypted) and a portal login."""
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    world = build_world(users, now=now)
    client = world.matter.client
    client.auto_apply_trust = True
    client.a_number = "A123456789"
    client.refresh_lookup_hashes()
    client.save()
    client.portal_users.add(User.objects.create(username="portal", role=Role.CLIENT))
    deposit_record(
        client=client,
        matter=world.matter,
        method="WIRE",
        payer="Northwind",
        reference="FW-1",
        amount_cents=1_000_000,
        received_date=date(2026, 10, 1),
        actor=None,
        now=now,
    )
    invoice = issued_invoice(world)
    approved_draft(world)
    return invoice


def _label(model: Any) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _counts() -> dict[str, int]:
    return {_label(m): m._default_manager.count() for m in exported_models()}


def _digest(without_audit: int = 0) -> str:
    """Every ledger number that matters, hashed: balances, postings, entries, the audit chain
    (less one event), invoice numbers."""
    parts = [
        list(
            AccountBalance.objects.order_by("account_id").values_list("account_id", "balance_cents")
        ),
        list(
            Posting.objects.order_by("id").values_list(
                "id", "entry_id", "account_id", "amount_cents", "client_id", "matter_id"
            )
        ),
        list(JournalEntry.objects.order_by("id").values_list("id", "entry_date", "memo")),
        list(
            AuditEvent.objects.exclude(pk=without_audit)
            .order_by("id")
            .values_list("id", "prev_hash", "hash")
        ),
        list(Invoice.objects.order_by("id").values_list("id", "number", "status", "total_cents")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _export(path: Path) -> Path:
    call_command("export_firm", str(path), stdout=StringIO())
    return path


@transaction.atomic
def _wipe() -> None:
    """Empty every table but those the migrations seed, as a fresh database has them (the
    test-database stand-in for a second, empty database)."""
    seeded = {apps.get_model(label)._meta.db_table for label in SEEDED}
    tables = [
        t
        for t in connection.introspection.django_table_names(only_existing=True)
        if t not in seeded and t not in {"django_content_type", "auth_permission"}
    ]
    if connection.vendor == "sqlite":  # DELETE with the guards lifted (the suite's flush)
        connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), tables))
        return
    # PostgreSQL: TRUNCATE would take the seeded tables with it (they refer to firm rows);
    # DELETE with the triggers off (the test role is a superuser), pending ones fired first.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _firm_rows() -> int:
    return sum(n for label, n in _counts().items() if label not in SEEDED)


def _rewrite(src: Path, dst: Path, change: dict[str, Any]) -> Path:
    """A copy of an export with some members changed (bytes, or a function of the old bytes)
    and the manifest rewritten to match: a consistent export of broken data."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        manifest = json.loads(zin.read("manifest.json"))
        for item in zin.infolist():
            if item.filename == "manifest.json":
                continue
            data = zin.read(item.filename)
            if item.filename in change:
                new = change[item.filename]
                data = new(data) if callable(new) else new
                manifest["files"][item.filename]["sha256"] = hashlib.sha256(data).hexdigest()
            zout.writestr(item.filename, data)
        if "manifest.json" in change:
            manifest = change["manifest.json"](manifest)
        zout.writestr("manifest.json", json.dumps(manifest))
    return dst


def test_export_reimports_into_an_empty_database_identically(
    users: dict[str, Any], now: Any, tmp_path: Path
) -> None:
    invoice = _firm(users, now)
    Firm.objects.filter(id=1).update(name="Exported Firm LLP")
    path = _export(tmp_path / "firm.zip")
    counts, digest = _counts(), _digest()
    _wipe()
    assert _firm_rows() == 0
    Firm.objects.filter(id=1).update(name="A fresh install")

    out = StringIO()
    try:
        call_command("import_firm", str(path), stdout=out)
    except SystemExit:
        raise AssertionError(out.getvalue()) from None
    line = json.loads(out.getvalue().splitlines()[-1])
    assert line["verify"] == "ok", out.getvalue()
    assert line["problems"] == 0
    assert line["tables"] == counts
    assert line["records"] == sum(counts.values())
    assert line["seconds"] > 0

    # Every table as it was, plus the import's own audit event chained onto the restored head.
    after = _counts()
    assert after.pop("core.auditevent") == counts.pop("core.auditevent") + 1
    assert after == counts
    last = AuditEvent.objects.order_by("-id")[0]
    assert last.action == "imports.firm_imported"
    assert last.prev_hash == AuditEvent.objects.order_by("-id")[1].hash
    assert _digest(without_audit=last.pk) == digest
    assert Firm.objects.get(id=1).name == "Exported Firm LLP"
    if connection.vendor == "sqlite":  # the posting guard lifted for the import is back
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                [NEWEST_ENTRY_TRIGGER],
            )
            assert cursor.fetchone() == (1,)
    # Numbers, encrypted columns, links and logins as they were (passwords are not exported).
    again = Invoice.objects.get(pk=invoice.pk)
    assert (again.number, again.status) == (invoice.number, "ISSUED")
    assert again.client.a_number == "A123456789"
    assert [u.username for u in again.client.portal_users.all()] == ["portal"]
    assert not User.objects.get(username=users["BILLING"].username).has_usable_password()
    # The restored firm keeps working: the next invoice takes the next number and new ids.
    draft = Invoice.objects.get(status="APPROVED")
    issued = billing.invoice_issue(invoice=draft, actor=users["BILLING"], now=now)
    assert issued.number is not None
    assert invoice.number is not None
    assert issued.number > invoice.number
    call_command("verify", stdout=StringIO())


def test_non_empty_database_is_refused(users: dict[str, Any], now: Any, tmp_path: Path) -> None:
    _firm(users, now)
    path = _export(tmp_path / "firm.zip")
    counts = _counts()
    with pytest.raises(CommandError, match=r"already has firm data \(core\.user"):
        call_command("import_firm", str(path), stdout=StringIO())
    assert _counts() == counts


def test_tampered_or_foreign_export_is_refused(
    users: dict[str, Any], now: Any, tmp_path: Path
) -> None:
    invoice = _firm(users, now)
    number = str(invoice.number)
    path = _export(tmp_path / "firm.zip")
    _wipe()
    # One changed byte: the manifest's hash no longer matches.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "data/billing.invoice.jsonl":
                data = data.replace(number.encode(), b"X" * len(number))
            zout.writestr(item.filename, data)
    with pytest.raises(
        ImportRefused, match=r"does not match its manifest.*billing\.invoice\.jsonl"
    ):
        import_firm(tampered, now=now)
    # An unknown format version.
    old = _rewrite(
        path,
        tmp_path / "old.zip",
        {"manifest.json": lambda m: {**m, "format": "caseledger-export/1"}},
    )
    with pytest.raises(ImportRefused, match=r"format 'caseledger-export/1' is not one"):
        import_firm(old, now=now)
    # Another schema.
    other = _rewrite(
        path,
        tmp_path / "schema.zip",
        {
            "manifest.json": lambda m: {
                **m,
                "migrations": {**m["migrations"], "core": "9999_future"},
            }
        },
    )
    with pytest.raises(ImportRefused, match=r"migrations: the export was made at core 9999_future"):
        import_firm(other, now=now)
    # Not a zip at all.
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match=r"junk\.zip: not a zip file"):
        call_command("import_firm", str(junk), stdout=StringIO())
    assert _firm_rows() == 0


def test_audit_key_of_another_install_is_refused(
    users: dict[str, Any], now: Any, tmp_path: Path, settings: Any
) -> None:
    _firm(users, now)
    path = _export(tmp_path / "firm.zip")
    _wipe()
    settings.AUDIT_KEYS = {"other": "k" * 40}
    with pytest.raises(ImportRefused, match=r"signed with audit key '.+', which this install"):
        import_firm(path, now=now)
    assert _firm_rows() == 0


def test_failure_half_way_writes_nothing(users: dict[str, Any], now: Any, tmp_path: Path) -> None:
    """A consistent export of broken data (a journal entry missing under its postings) is
    refused when the foreign keys are checked, after most tables went in: all rolled back."""
    _firm(users, now)
    path = _export(tmp_path / "firm.zip")
    seeded = {label: n for label, n in _counts().items() if label in SEEDED}
    _wipe()

    def drop_first_entry(data: bytes) -> bytes:
        return b"".join(data.splitlines(keepends=True)[1:])

    broken = _rewrite(
        path, tmp_path / "broken.zip", {"data/ledger.journalentry.jsonl": drop_first_entry}
    )
    with pytest.raises(ImportRefused, match=r"ledger_posting|refused a row"):
        import_firm(broken, now=now)
    assert _firm_rows() == 0
    assert {label: n for label, n in _counts().items() if label in SEEDED} == seeded


def test_a_fresh_test_database_counts_as_empty(tmp_path: Path) -> None:
    """The migrations seed only the SEEDED tables: a migrated database passes the check."""
    from caseledger.imports.firm_import import check_empty

    check_empty()
    assert all(n == 0 for label, n in _counts().items() if label not in SEEDED)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_import_commits_and_moves_every_sequence(
    require_postgres: None, users: dict[str, Any], now: Any, tmp_path: Path
) -> None:
    """A real commit on PostgreSQL: the deferred checks (foreign keys, balanced entries, postings
    in their entry's transaction) pass at COMMIT, and every sequence is past its restored ids."""
    _firm(users, now)
    path = _export(tmp_path / "firm.zip")
    counts = _counts()
    _wipe()
    out = StringIO()
    call_command("import_firm", str(path), stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["verify"] == "ok"
    assert {k: v for k, v in _counts().items() if k != "core.auditevent"} == {
        k: v for k, v in counts.items() if k != "core.auditevent"
    }
    with connection.cursor() as cursor:
        for model in exported_models():
            meta = model._meta
            if meta.pk is None or meta.pk.get_internal_type() not in {"AutoField", "BigAutoField"}:
                continue
            top = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
            if top is None:
                continue
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s))", [meta.db_table, meta.pk.column]
            )
            assert cursor.fetchone()[0] > top, meta.db_table
