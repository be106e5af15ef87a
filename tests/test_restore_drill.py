"""Restore drill (issue 20): a firm with money and audit events is backed up encrypted,
restored into an empty database, and `manage.py verify` passes there; on SQLite and, marker
postgres, on PostgreSQL. Plus every refusal: another key, an altered or cut file, a database
that is not empty."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from caseledger.core import backups
from caseledger.core.backups import BackupError
from caseledger.core.models import AuditEvent
from caseledger.credits.tests import factories as F
from caseledger.trust.services import deposit_record

ROOT = Path(__file__).resolve().parent.parent
KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


@pytest.fixture
def backup_key(settings: Any) -> str:
    settings.BACKUP_KEY = KEY
    return KEY


def _firm(users: dict[str, Any], now: Any, *, invoices: bool = True) -> None:
    """Money and audit events to restore. ``invoices=False`` on SQLite, where a test that
    commits (the online backup copies committed pages) cannot empty issued invoices after."""
    m = F.matter(partner=users["PARTNER"])
    if invoices:
        invoice = F.invoice(
            matter_obj=m, cents=100_000, issued=date(2026, 9, 1), due=date(2026, 10, 1)
        )
        F.pay(invoice_obj=invoice, cents=30_000, day=date(2026, 9, 5))
    F.trust_deposit(matter_obj=m, cents=1_000, day=date(2026, 9, 7))
    deposit_record(
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


def _verify(database_url: str, tmp_path: Path) -> tuple[int, str]:
    """`manage.py verify` in its own process against the restored database, with the keys of
    this install (audit chain, field encryption) as a real restore would have them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO"))}
    env.update(
        DATABASE_URL=database_url,
        CASELEDGER_VAR_DIR=str(tmp_path / "var"),
        CASELEDGER_AUDIT_KEY=",".join(settings.AUDIT_KEYS.values()),
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        CASELEDGER_AUDIT_ANCHOR_PATH=str(settings.AUDIT_ANCHOR_PATH),
    )
    if settings.FIELD_HASH_KEY:
        env["FIELD_HASH_KEY"] = settings.FIELD_HASH_KEY
    result = subprocess.run(
        [sys.executable, "manage.py", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def documents(settings: Any, tmp_path: Path) -> dict[str, bytes]:
    """Uploaded files under a MEDIA_ROOT of this test (the matters' documents live there)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    files = {
        "matters/documents/2026/09/approval-notice.pdf": b"%PDF-1.7 I-797 approval " * 400,
        "matters/documents/2026/10/rfe-copy.pdf": os.urandom(70_000),
    }
    for name, content in files.items():
        path = tmp_path / "media" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return files


def _backup(tmp_path: Path) -> dict[str, Any]:
    out = StringIO()
    call_command("backup", output=str(tmp_path / "backups"), stdout=out)
    return json.loads(out.getvalue())


def _restore(manifest: str, url: str, media_root: Path | None = None) -> dict[str, Any]:
    out = StringIO()
    media = {"media_root": str(media_root)} if media_root else {}
    call_command("restore", manifest, database_url=url, stdout=out, **media)
    return json.loads(out.getvalue())


@pytest.mark.django_db(transaction=True)
def test_sqlite_restore_drill(users, now, tmp_path, backup_key, documents):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite drill (the PostgreSQL one is marked postgres)")
    _firm(users, now, invoices=False)
    events = AuditEvent.objects.count()
    made = _backup(tmp_path)
    assert made["audit_events"] == events > 0
    assert made["media_files"] == 2
    # The files are encrypted too: no document's bytes in the media file.
    assert b"I-797 approval" not in Path(made["media"]).read_bytes()
    manifest = json.loads(Path(made["manifest"]).read_text())
    assert manifest["vendor"] == "sqlite"
    assert manifest["key_id"] == backups.key_id(base64.urlsafe_b64decode(KEY))
    from django.db.migrations.loader import MigrationLoader

    ((_, core_newest),) = MigrationLoader(None).graph.leaf_nodes("core")
    assert manifest["migrations"]["core"] == core_newest
    # Encrypted: the dump's own header is not in the file.
    assert b"SQLite format 3" not in Path(made["backup"]).read_bytes()

    target = tmp_path / "restored" / "caseledger.sqlite3"
    media_root = tmp_path / "var" / "media"
    restored = _restore(made["manifest"], f"sqlite:///{target}", media_root)
    assert restored["audit_events"] == events
    assert restored["media_files"] == 2
    for name, content in documents.items():
        assert (media_root / name).read_bytes() == content
    code, out = _verify(f"sqlite:///{target}", tmp_path)
    assert code == 0, out
    assert '"verify": "ok"' in out

    # The same backup again into the now restored (not empty) database: refused.
    with pytest.raises(Exception, match="restore only into an empty database"):
        _restore(made["manifest"], f"sqlite:///{target}")


@pytest.fixture
def empty_pg_database(require_postgres: Any) -> Iterator[str]:
    s = connection.settings_dict
    name = f"{s['NAME']}_restore"[:60]
    info = {
        "host": s["HOST"] or "127.0.0.1",
        "port": s["PORT"] or 5432,
        "user": s["USER"] or None,
        "password": s["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **info) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    user = f"{s['USER']}@" if s["USER"] else ""
    yield f"postgres://{user}{info['host']}:{info['port']}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **info) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_restore_drill(users, now, tmp_path, backup_key, empty_pg_database, documents):
    _firm(users, now)
    events = AuditEvent.objects.count()
    made = _backup(tmp_path)
    manifest = json.loads(Path(made["manifest"]).read_text())
    assert manifest["vendor"] == "postgresql"
    assert manifest["tool"].startswith("pg_dump")
    assert manifest["media"]["files"] == 2
    media_root = tmp_path / "var" / "media"
    restored = _restore(made["manifest"], empty_pg_database, media_root)
    assert restored["audit_events"] == events
    assert restored["media_files"] == 2
    for name, content in documents.items():
        assert (media_root / name).read_bytes() == content
    code, out = _verify(empty_pg_database, tmp_path)
    assert code == 0, out
    # The append-only guards came back with the schema.
    with psycopg.connect(empty_pg_database, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation):
            conn.execute("DELETE FROM core_auditevent")


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_another_key_and_an_altered_file(users, now, tmp_path, backup_key):
    _firm(users, now, invoices=False)
    made = _backup(tmp_path)
    manifest = Path(made["manifest"])
    target = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "t.sqlite3")}
    if connection.vendor == "postgresql":
        target = dict(connection.settings_dict, NAME="never_used_by_the_refusals")
    other = base64.urlsafe_b64encode(bytes(32)).decode()
    with pytest.raises(BackupError, match="is not the key the backup was made with"):
        backups.restore(manifest_path=manifest, target=target, key=backups.backup_key(other))
    path = Path(made["backup"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="SHA-256 differs from the manifest"):
        backups.restore(manifest_path=manifest, target=target)


@pytest.mark.django_db(transaction=True)
def test_media_restore_refuses_a_different_file_an_altered_tar_and_a_path_out(
    users, now, tmp_path, backup_key, documents
):
    _firm(users, now, invoices=False)
    made = _backup(tmp_path)
    manifest_path = Path(made["manifest"])
    media = json.loads(manifest_path.read_text())["media"]
    key = backups.backup_key()
    root = tmp_path / "restored-media"
    # A file of the same name with other content is never overwritten.
    clash = root / "matters/documents/2026/10/rfe-copy.pdf"
    clash.parent.mkdir(parents=True)
    clash.write_bytes(b"another firm's file")
    with pytest.raises(BackupError, match="rfe-copy.pdf exists with other content"):
        backups._media_restore(manifest_path, media, key, root)
    assert clash.read_bytes() == b"another firm's file"
    # The same content already there is left as is; the rest is put back.
    clash.write_bytes(documents["matters/documents/2026/10/rfe-copy.pdf"])
    assert backups._media_restore(manifest_path, media, key, root) == 2
    # A tar whose member climbs out of the folder is refused, even correctly encrypted.
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    sealed = tmp_path / "backups" / "evil.media"
    with sealed.open("wb") as dst:
        plain_sha = backups.encrypt_stream(key, io.BytesIO(evil.getvalue()), dst)
    forged = {"file": sealed.name, "sha256": backups.sha256_file(sealed), "plain_sha256": plain_sha}
    with pytest.raises(BackupError, match="refused member"):
        backups._media_restore(manifest_path, forged, key, tmp_path / "other-media")
    assert not (tmp_path / "outside.txt").exists()
    # An altered media file fails its checksum before anything is written.
    path = manifest_path.with_name(media["file"])
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="media file .* SHA-256 differs"):
        backups._media_restore(manifest_path, media, key, tmp_path / "third-media")


def test_backup_key_is_required_and_checked(settings):
    settings.BACKUP_KEY = ""
    with pytest.raises(BackupError, match="CASELEDGER_BACKUP_KEY: required"):
        backups.backup_key()
    with pytest.raises(BackupError, match="must be 32 bytes"):
        backups.backup_key("c2hvcnQ=")


def test_stream_cipher_refuses_cut_reordered_and_altered_chunks(monkeypatch):
    monkeypatch.setattr(backups, "CHUNK", 64)
    key = os.urandom(32)
    plain = os.urandom(64 * 3 + 10)
    sealed = io.BytesIO()
    digest = backups.encrypt_stream(key, io.BytesIO(plain), sealed)
    blob = sealed.getvalue()
    out = io.BytesIO()
    assert backups.decrypt_stream(key, io.BytesIO(blob), out) == digest
    assert out.getvalue() == plain
    header = len(backups.MAGIC) + 8
    record = 5 + 64 + 16  # length + flag + chunk + GCM tag
    # Cut after the first two chunks: the last one is missing.
    with pytest.raises(BackupError, match="cut short"):
        backups.decrypt_stream(key, io.BytesIO(blob[: header + 2 * record]), io.BytesIO())
    # Chunks 0 and 1 swapped.
    swapped = (
        blob[:header]
        + blob[header + record : header + 2 * record]
        + blob[header : header + record]
        + blob[header + 2 * record :]
    )
    with pytest.raises(BackupError, match="chunk 0 does not decrypt"):
        backups.decrypt_stream(key, io.BytesIO(swapped), io.BytesIO())
    with pytest.raises(BackupError, match="does not decrypt"):
        backups.decrypt_stream(os.urandom(32), io.BytesIO(blob), io.BytesIO())
