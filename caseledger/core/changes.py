"""Change counts: what a cached read of money keys on, so that it is never stale.

A *domain* (``trust``) names the tables, and for some of them the columns, that its cached
reads may read (``Watched``, declared by the domain's app). The domain's migration installs a
trigger on each of them that adds a row (domain, a random weight from 1 to 2**40 - 1) to
``core_changecount`` in the writing transaction, for every change of a watched row or column.
The domain's *count* is the sum of its rows modulo 2**62: each commit that changed something
it watches moves it, a rolled-back write leaves it as it was, and the compaction job
(``change_counts_compact``) folds the rows into one row of the same count. A commit is seen by
every later snapshot, so two reads of one database that see the same count see the same
watched rows. The weights are random, and the migration starts each domain at a random count,
so that two histories do not meet at one count: a database restored from a backup and then
changed differently, or two databases sharing one cache, do not share keys (a chance of about
one in 2**40 per pair of counts).

``cached_read`` runs a read at most once per count: it reads the count, then looks for the
read's result in the cache under (domain, count, a hash of the read's SQL and parameters) and
computes and stores it when absent. The count is read before the figures, in a snapshot of
its own, so a result is at least as new as the count it is stored under; the next change
raises the count and the next read computes again. It caches only when it is safe to:

* outside any transaction (``in_atomic_block``): inside one, the read could see the
  transaction's own uncommitted writes, which a rollback would take back;
* when every table the SQL reads is watched by the domain, and on tables watched by columns,
  every column it names is one of them (``watched_by``): a read changed later to read something
  else is computed every time, never served stale;
* when the cache answers: an unreachable cache (Redis down) means computing, not failing.

The count and the figures are read through the same connection (``using``), so a replica's
figures are keyed by the replica's count.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connections

from caseledger.core.deltas import delta_rows_fold

T = TypeVar("T")

log = logging.getLogger(__name__)

TABLE = "core_changecount"
MODULUS = 2**62  # counts and compacted rows stay within a bigint
CACHE_SECONDS = 24 * 3600  # a count's results outlive it only until the cache drops them


@dataclass(frozen=True)
class Watched:
    """The tables a domain's triggers watch: table -> the watched columns (None: every column,
    and every insert and delete)."""

    domain: str
    tables: Mapping[str, frozenset[str] | None]


_TABLE_REF = re.compile(r'(?:FROM|JOIN)\s+"(\w+)"(?:\s+(?:AS\s+)?([A-Z]\d+)\b)?')
_COLUMN_REF = r'(?:"{table}"|{aliases})\."(\w+)"'


def watched_by(watched: Watched, sql: str) -> bool:
    """Whether every table ``sql`` (Django's compiled SQL: quoted names, ``U0``-style aliases)
    reads is watched by ``watched``, and on the tables watched by columns, every column it
    names."""
    aliases: dict[str, set[str]] = {}
    for table, alias in _TABLE_REF.findall(sql):
        if table not in watched.tables:
            return False
        aliases.setdefault(table, set())
        if alias:
            aliases[table].add(alias)
    if not aliases:
        return False
    for table, names in aliases.items():
        columns = watched.tables[table]
        if columns is None:
            continue
        refs = "|".join(sorted(names)) or "(?!)"
        used = set(re.findall(_COLUMN_REF.format(table=table, aliases=refs), sql))
        if not used <= columns:
            return False
    return True


def change_count(domain: str, using: str = "default") -> int:
    """The domain's count: the sum of its change rows modulo ``MODULUS`` (one indexed read)."""
    with connections[using].cursor() as cur:
        cur.execute(
            f"SELECT COALESCE(SUM(weight), 0) %% {MODULUS} FROM {TABLE} WHERE domain = %s", [domain]
        )
        row = cur.fetchone()
    return int(row[0]) if row else 0


def cached_read(
    watched: Watched,
    using: str,
    sql: str,
    params: Sequence[Any],
    compute: Callable[[], T],
) -> T:
    """``compute()`` (which runs ``sql`` with ``params`` on ``using`` and builds its result), or
    its result stored for the domain's current count (see the module's docstring for when it
    is used)."""
    if connections[using].in_atomic_block or not watched_by(watched, sql):
        return compute()
    count = change_count(watched.domain, using)
    digest = hashlib.sha256(repr((sql, list(params))).encode()).hexdigest()
    key = f"changes:{watched.domain}:{count}:{digest}"
    try:
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - any cache failure (Redis down): compute instead
        log.warning("change cache unreachable; computing %s", watched.domain, exc_info=True)
        return compute()
    if found is not None:
        return found  # type: ignore[no-any-return]
    value = compute()
    try:
        cache.set(key, value, CACHE_SECONDS)
    except Exception:  # noqa: BLE001 - the value is right; only its reuse is lost
        log.warning("change cache unreachable; not stored %s", watched.domain, exc_info=True)
    return value


def change_counts_compact(using: str = "default") -> int:
    """Fold each domain's change rows into one row of their sum (modulo ``MODULUS``): counts
    never change (``core.deltas.delta_rows_fold``); returns the rows left."""
    return delta_rows_fold(
        table=TABLE,
        columns="domain, weight",
        key="domain",
        sums=f"SUM(weight) % {MODULUS}",
        using=using,
    )
