"""Encrypted backups and their restore (``manage.py backup`` / ``manage.py restore``).

A backup is three files: ``caseledger-<vendor>-<UTC time>.clbk`` (the database dump,
encrypted), ``...clbk.media`` (the uploaded files under MEDIA_ROOT, the matters' documents, as
one tar, encrypted the same way) and ``...clbk.manifest.json`` (what they hold, the checksums,
the key's id). The dump is PostgreSQL's ``pg_dump --format=custom`` or, on SQLite, a consistent
copy made with SQLite's online backup API while the application keeps running. The files are
read after the dump, so a document uploaded in between may be in the tar without its row (it is
harmless); a row is never without its file unless the file was already missing (``manage.py
verify``'s ``documents`` check says so).

Encryption: AES-256-GCM over 1 MiB chunks, streamed (a dump never sits unencrypted on disk on
the way out). Each chunk's nonce is a random 8-byte file prefix plus the chunk's index, and its
associated data binds the header, the index and a last-chunk flag, so a reordered, cut short or
altered file fails to decrypt instead of restoring part of a firm. The key is
``CASELEDGER_BACKUP_KEY`` (32 bytes, URL-safe base64: ``python -c "from cryptography.fernet
import Fernet; print(Fernet.generate_key().decode())"``); the manifest stores only its id.

Restore refuses a database that has any table (it restores into an empty one only), checks the
file's SHA-256 against the manifest, the key id, the decrypted dump's SHA-256, then the audit
chain's event count and head in the restored database; then it puts the files back under the
media folder (never over a different file of the same name, never outside the folder);
``manage.py verify`` is the last step.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from caseledger.core.exceptions import ApplicationError

R = TypeVar("R")

MAGIC = b"CLBK1\n"
CHUNK = 1 << 20
FORMAT = "caseledger-backup/1"
CIPHER = "AES-256-GCM, 1 MiB chunks, nonce = 8-byte file prefix + chunk index"

KEY_MISSING = (
    "CASELEDGER_BACKUP_KEY: required to back up or restore; 32 random bytes in URL-safe base64 "
    "(e.g. a Fernet key), kept apart from the backups"
)
KEY_INVALID = "CASELEDGER_BACKUP_KEY: must be 32 bytes in URL-safe base64 (44 characters)"


class BackupError(ApplicationError):
    """A backup or restore refused: the message names what and why."""


def backup_key(raw: str | None = None) -> bytes:
    value = (raw if raw is not None else getattr(settings, "BACKUP_KEY", "")).strip()
    if not value:
        raise BackupError(KEY_MISSING)
    try:
        key = base64.urlsafe_b64decode(value.encode())
    except (ValueError, TypeError) as exc:
        raise BackupError(KEY_INVALID) from exc
    if len(key) != 32:
        raise BackupError(KEY_INVALID)
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"caseledger-backup-key:" + key).hexdigest()[:12]


# Streaming AES-GCM ----------------------------------------------------------------------------


def _aad(prefix: bytes, index: int, final: bool) -> bytes:
    return MAGIC + prefix + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def encrypt_stream(key: bytes, src: IO[bytes], dst: IO[bytes]) -> str:
    """Encrypt ``src`` into ``dst``; return the SHA-256 of the plaintext."""
    aes = AESGCM(key)
    prefix = os.urandom(8)
    plain = hashlib.sha256()
    dst.write(MAGIC + prefix)
    index = 0
    chunk = src.read(CHUNK)
    while True:
        following = src.read(CHUNK)
        final = not following
        plain.update(chunk)
        nonce = prefix + index.to_bytes(4, "big")
        sealed = aes.encrypt(nonce, chunk, _aad(prefix, index, final))
        dst.write(len(sealed).to_bytes(4, "big") + (b"\x01" if final else b"\x00") + sealed)
        if final:
            return plain.hexdigest()
        chunk = following
        index += 1


def decrypt_stream(key: bytes, src: IO[bytes], dst: IO[bytes]) -> str:
    """Decrypt ``src`` into ``dst``; return the plaintext's SHA-256. Raises BackupError when the
    key is another, or the file was altered, reordered or cut short."""
    aes = AESGCM(key)
    header = src.read(len(MAGIC) + 8)
    if len(header) != len(MAGIC) + 8 or not header.startswith(MAGIC):
        raise BackupError("backup file: not a CaseLedger backup (its header is wrong)")
    prefix = header[len(MAGIC) :]
    plain = hashlib.sha256()
    index = 0
    while True:
        head = src.read(5)
        if len(head) < 5:
            raise BackupError("backup file: cut short (no last chunk)")
        length, final = int.from_bytes(head[:4], "big"), head[4] == 1
        sealed = src.read(length)
        if len(sealed) != length:
            raise BackupError("backup file: cut short inside a chunk")
        try:
            chunk = aes.decrypt(
                prefix + index.to_bytes(4, "big"), sealed, _aad(prefix, index, final)
            )
        except InvalidTag as exc:
            raise BackupError(
                f"backup file: chunk {index} does not decrypt: CASELEDGER_BACKUP_KEY is not the "
                "key it was made with, or the file was altered"
            ) from exc
        plain.update(chunk)
        dst.write(chunk)
        if final:
            if src.read(1):
                raise BackupError("backup file: data after the last chunk")
            return plain.hexdigest()
        index += 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


# Backup ---------------------------------------------------------------------------------------


def _pg_args(s: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = ["-h", s.get("HOST") or "127.0.0.1", "-p", str(s.get("PORT") or 5432)]
    if s.get("USER"):
        args += ["-U", s["USER"]]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    return args, env


def _tool_version(tool: str) -> str:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _chain_state_django() -> dict[str, Any]:
    from caseledger.core.models import AuditChainHead, AuditEvent

    head = AuditChainHead.objects.filter(id=1).values_list("last_hash", flat=True).first()
    return {"events": AuditEvent.objects.count(), "head": head or ""}


def _migrations_state() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest_path: Path
    manifest: dict[str, Any]


def backup(*, out_dir: Path, now: datetime, key: bytes | None = None) -> BackupResult:
    """Dump the default database, encrypted, into ``out_dir`` with its manifest."""
    key = key if key is not None else backup_key()
    out_dir.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    if vendor not in {"postgresql", "sqlite"}:
        raise BackupError(f"DATABASE_URL: backups support PostgreSQL and SQLite, not {vendor}")
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"caseledger-{vendor}-{stamp}.clbk"
    chain = _chain_state_django()
    migrations_state = _migrations_state()
    plain_sha, tool = _write_whole(
        path,
        lambda dst: (
            _pg_dump_into(dst, key)
            if vendor == "postgresql"
            else _sqlite_copy_into(dst, key, out_dir)
        ),
    )
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "vendor": vendor,
        "database": str(connection.settings_dict.get("NAME", "")),
        "tool": tool,
        "file": path.name,
        "size": path.stat().st_size,
        "sha256": sha256_file(path),
        "plain_sha256": plain_sha,
        "cipher": CIPHER,
        "key_id": key_id(key),
        "audit": chain,
        "migrations": migrations_state,
        "media": _media_backup(path.with_suffix(".media"), key),
    }
    manifest_path = path.with_name(path.name + ".manifest.json")
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return BackupResult(path=path, manifest_path=manifest_path, manifest=manifest)


def _write_whole(path: Path, fill: Callable[[IO[bytes]], R]) -> R:
    """Write ``path`` through ``fill(dst)`` into a ``.partial`` beside it, synced to disk, then
    renamed into place: a backup file is whole or absent, never cut short. Returns ``fill``'s
    result."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as dst:
            result = fill(dst)
            dst.flush()
            os.fsync(dst.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return result


def _checked_file(path: Path, sha256: str, what: str) -> Path:
    """``path``, refused unless it exists and has the SHA-256 the manifest gives it."""
    if not path.exists():
        raise BackupError(f"{what} {path}: missing (the manifest names it)")
    if sha256_file(path) != sha256:
        raise BackupError(f"{what} {path}: SHA-256 differs from the manifest (altered or cut)")
    return path


def _media_into(dst: IO[bytes], key: bytes, root: Path) -> tuple[str, int]:
    """Stream a tar of every file under ``root`` (sorted, relative names) through the cipher into
    ``dst``: a thread writes the tar into a pipe that the cipher reads, so no plain copy touches
    the disk. Returns the tar's SHA-256 and the number of files."""
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def write_tar() -> None:
        try:
            with os.fdopen(write_fd, "wb") as pipe, tarfile.open(fileobj=pipe, mode="w|") as tar:
                for path in files:
                    tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
        except BaseException as exc:  # noqa: BLE001 - reported by the reading side below
            failure.append(exc)

    writer = threading.Thread(target=write_tar, name="backup-media")
    writer.start()
    with os.fdopen(read_fd, "rb") as pipe:
        plain_sha = encrypt_stream(key, pipe, dst)
    writer.join()
    if failure:
        raise BackupError(f"media folder {root}: could not be read ({failure[0]})")
    return plain_sha, len(files)


def _media_backup(path: Path, key: bytes) -> dict[str, Any]:
    """The media folder's encrypted tar beside the dump, and its manifest entry."""
    root = Path(settings.MEDIA_ROOT)
    plain_sha, count = _write_whole(path, lambda dst: _media_into(dst, key, root))
    return {
        "file": path.name,
        "size": path.stat().st_size,
        "sha256": sha256_file(path),
        "plain_sha256": plain_sha,
        "files": count,
    }


def _media_restore(manifest_path: Path, media: dict[str, Any], key: bytes, root: Path) -> int:
    """Put the backup's files back under ``root``: the tar is checked (SHA-256 before and after
    decryption), then each member extracted with tarfile's ``data`` filter (no absolute paths,
    no ``..``, no links out, no devices). A file already there with other content is refused;
    the same content is left as is. Returns the number of files restored."""
    path = _checked_file(manifest_path.with_name(media["file"]), media["sha256"], "media file")
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent, prefix=".restore-media-") as tmp:
        plain = Path(tmp) / "media.tar"
        with path.open("rb") as src, plain.open("wb") as dst:
            if decrypt_stream(key, src, dst) != media["plain_sha256"]:
                raise BackupError("media file: decrypted tar's SHA-256 differs from the manifest")
        staged = Path(tmp) / "files"
        with tarfile.open(plain) as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            try:
                tar.extractall(staged, members=members, filter="data")
            except tarfile.FilterError as exc:
                raise BackupError(f"media file: refused member ({exc})") from exc
        for member in members:
            source, target = staged / member.name, root / member.name
            if target.exists():
                if sha256_file(target) != sha256_file(source):
                    raise BackupError(
                        f"media folder: {member.name} exists with other content; restore into "
                        "an empty media folder"
                    )
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, target)
    return len(members)


def _pg_dump_into(dst: IO[bytes], key: bytes) -> tuple[str, str]:
    s = connection.settings_dict
    args, env = _pg_args(s)
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", *args, s["NAME"]]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        plain_sha = encrypt_stream(key, proc.stdout, dst)
        err = proc.stderr.read().decode(errors="replace")
        code = proc.wait()
    if code != 0:
        raise BackupError(f"pg_dump failed (exit {code}): {err.strip()[:500]}")
    return plain_sha, _tool_version("pg_dump")


def _sqlite_copy_into(dst: IO[bytes], key: bytes, work_dir: Path) -> tuple[str, str]:
    if connection.in_atomic_block:
        # The copy would wait for this very transaction's locks forever.
        raise BackupError("backup: SQLite is copied outside a transaction; run it on its own")
    connection.ensure_connection()
    source = connection.connection
    with tempfile.TemporaryDirectory(dir=work_dir, prefix=".backup-") as tmp:
        copy_path = Path(tmp) / "copy.sqlite3"
        target = sqlite3.connect(copy_path)
        try:
            # Pages are copied in steps; writers in between restart the copy (consistent).
            source.backup(target, pages=1024)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
        with copy_path.open("rb") as src:
            plain_sha = encrypt_stream(key, src, dst)
    return plain_sha, f"sqlite3 online backup API (SQLite {sqlite3.sqlite_version})"


# Restore --------------------------------------------------------------------------------------


def _sqlite_path(url_or_settings: dict[str, Any]) -> Path:
    return Path(str(url_or_settings["NAME"]))


def _pg_conninfo(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "host": s.get("HOST") or "127.0.0.1",
        "port": s.get("PORT") or 5432,
        "user": s.get("USER") or None,
        "password": s.get("PASSWORD") or None,
        "dbname": s["NAME"],
    }


def _target_tables(vendor: str, target: dict[str, Any]) -> int:
    if vendor == "postgresql":
        with psycopg.connect(**_pg_conninfo(target), autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                "('pg_catalog', 'information_schema')"
            ).fetchone()
            return int(row[0]) if row else 0
    path = _sqlite_path(target)
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
        return int(row[0])


def _target_chain(vendor: str, target: dict[str, Any]) -> dict[str, Any]:
    sql = (
        "SELECT (SELECT count(*) FROM core_auditevent), "
        "(SELECT last_hash FROM core_auditchainhead WHERE id = 1)"
    )
    if vendor == "postgresql":
        with psycopg.connect(**_pg_conninfo(target), autocommit=True) as conn:
            row = conn.execute(sql).fetchone()
    else:
        with sqlite3.connect(_sqlite_path(target)) as conn:
            row = conn.execute(sql).fetchone()
    assert row is not None
    return {"events": int(row[0]), "head": row[1] or ""}


def read_manifest(manifest_path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"manifest {manifest_path}: cannot be read as JSON ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"manifest {manifest_path}: format is not {FORMAT}")
    return manifest


def restore(
    *,
    manifest_path: Path,
    target: dict[str, Any],
    key: bytes | None = None,
    media_root: Path | None = None,
) -> dict[str, Any]:
    """Restore the backup ``manifest_path`` describes into the empty database ``target`` (a
    Django DATABASES entry), and its files under ``media_root`` (default MEDIA_ROOT). Returns
    the restored audit chain state and ``media_files``, the number of files put back."""
    key = key if key is not None else backup_key()
    manifest = read_manifest(manifest_path)
    path = _checked_file(
        manifest_path.with_name(manifest["file"]), manifest["sha256"], "backup file"
    )
    if key_id(key) != manifest["key_id"]:
        raise BackupError(
            f"CASELEDGER_BACKUP_KEY: id {key_id(key)} is not the key the backup was made with "
            f"(id {manifest['key_id']})"
        )
    vendor = "postgresql" if "postgresql" in target["ENGINE"] else "sqlite"
    if vendor != manifest["vendor"]:
        raise BackupError(
            f"DATABASE_URL: the backup is of a {manifest['vendor']} database, "
            f"the target is {vendor}"
        )
    tables = _target_tables(vendor, target)
    if tables:
        raise BackupError(
            f"target database {target['NAME']}: has {tables} table(s); restore only into an "
            "empty database (create a new one, restore, then switch DATABASE_URL)"
        )
    work_dir = _sqlite_path(target).parent if vendor == "sqlite" else manifest_path.parent
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix=".restore-") as tmp:
        dump = Path(tmp) / "dump"
        with path.open("rb") as src, dump.open("wb") as dst:
            plain_sha = decrypt_stream(key, src, dst)
        if plain_sha != manifest["plain_sha256"]:
            raise BackupError("backup file: decrypted dump's SHA-256 differs from the manifest")
        if vendor == "postgresql":
            _pg_restore(dump, target)
        else:
            _sqlite_restore(dump, _sqlite_path(target))
    chain = _target_chain(vendor, target)
    if chain != manifest["audit"]:
        raise BackupError(
            f"restored database: audit chain {chain} differs from the manifest's "
            f"{manifest['audit']}"
        )
    media = manifest.get("media")  # a backup made before files were kept has none
    restored = (
        _media_restore(manifest_path, media, key, media_root or Path(settings.MEDIA_ROOT))
        if media
        else 0
    )
    return {**chain, "media_files": restored}


def _pg_restore(dump: Path, target: dict[str, Any]) -> None:
    args, env = _pg_args(target)
    command = [
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        *args,
        "-d",
        target["NAME"],
        str(dump),
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (exit {result.returncode}): {result.stderr[:500]}")


def _sqlite_restore(dump: Path, target: Path) -> None:
    # Check the copy opens and is whole before it takes the target's place.
    with sqlite3.connect(dump) as conn:
        row = conn.execute("PRAGMA integrity_check").fetchone()
    if not row or row[0] != "ok":
        raise BackupError(f"backup file: the SQLite copy fails its integrity check ({row})")
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    staged = target.with_name(target.name + ".restoring")
    shutil.copyfile(dump, staged)
    with staged.open("rb") as f:
        os.fsync(f.fileno())
    staged.replace(target)
