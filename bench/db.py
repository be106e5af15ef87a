"""Throwaway benchmark databases. Call ``prepare(name)`` BEFORE Django is set up: it points
DATABASE_URL at a fresh database (``<db>_bench_<name>`` on the PostgreSQL server DATABASE_URL
names, ``<db>`` being the database DATABASE_URL names, so checkouts sharing one server never drop
each other's throwaway; or a temp SQLite file), sets Django up and migrates. ``cleanup()``
drops it."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit


@dataclass
class Throwaway:
    vendor: str
    url: str
    pg_admin: dict[str, object] | None = None
    dbname: str = ""
    tmpdir: str = ""


_current: Throwaway | None = None


def _pg_admin_params(url: str) -> dict[str, object]:
    import dj_database_url

    cfg = dj_database_url.parse(url)
    return {
        "host": cfg.get("HOST") or "127.0.0.1",
        "port": int(cfg.get("PORT") or 5432),
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }


def prepare(name: str) -> Throwaway:
    """Create, configure and migrate the throwaway database for bench ``name``."""
    global _current
    source = os.environ.get("DATABASE_URL", "")
    scheme = urlsplit(source).scheme if source else "sqlite"
    if scheme.startswith("postgres") or scheme == "pgsql":
        import psycopg

        source_db = urlsplit(source).path.lstrip("/") or "caseledger"
        dbname = f"{source_db}_bench_{name}"
        admin = _pg_admin_params(source)
        with psycopg.connect(**admin) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{dbname}"')
        parts = urlsplit(source)
        url = urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, ""))
        _current = Throwaway("postgresql", url, pg_admin=admin, dbname=dbname)
    else:
        tmpdir = tempfile.mkdtemp(prefix=f"bench_{name}_")
        url = f"sqlite:///{tmpdir}/bench_{name}.sqlite3"
        _current = Throwaway("sqlite", url, tmpdir=tmpdir)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseledger.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return _current


def cleanup() -> None:
    global _current
    if _current is None:
        return
    from django.db import connections

    connections.close_all()
    if _current.vendor == "postgresql" and _current.pg_admin is not None:
        import psycopg

        with psycopg.connect(**_current.pg_admin) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{_current.dbname}" WITH (FORCE)')
    elif _current.tmpdir:
        shutil.rmtree(_current.tmpdir, ignore_errors=True)
    _current = None


def settle() -> None:
    """``VACUUM ANALYZE`` the database on PostgreSQL (nothing elsewhere), as a server's
    autovacuum soon would after a bulk load: generated data leaves dead rows (the open A/R rows
    the generator rewrote: as many dead as live) and no visibility map, and this machine's
    server runs with autovacuum off, so pages would be measured on tables no running firm has."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
