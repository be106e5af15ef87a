"""Tables of delta rows that triggers append (one row per change, no row lock to wait for)
and a periodic job folds: the invoice tally (payments.tally) and the change counts
(core.changes)."""

from __future__ import annotations

from django.db import connections, transaction


def delta_rows_fold(
    *, table: str, columns: str, key: str, sums: str, having: str = "", using: str = "default"
) -> int:
    """Replace ``table``'s rows by one row per ``key`` holding ``sums`` (SQL over the rows,
    in the order of ``columns``, the key's columns first), keeping only the keys ``having``
    (an SQL condition over the sums; empty: every key); returns the rows left. Readers see the
    old rows or the new ones, never a mix. PostgreSQL: one statement that deletes the rows its
    snapshot sees and inserts their sums, so rows the triggers of concurrent transactions add
    stay as they are (and two folds at once each fold only the rows they deleted). SQLite
    (writers serialized): the rows up to the highest id, in one transaction."""
    connection = connections[using]
    keep = f" HAVING {having}" if having else ""
    with transaction.atomic(using=using), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"WITH d AS (DELETE FROM {table} RETURNING {columns}) "
                f"INSERT INTO {table} ({columns}) SELECT {key}, {sums} FROM d "
                f"GROUP BY {key}{keep}"
            )
        else:
            cur.execute(f"SELECT MAX(id) FROM {table}")
            top = int(cur.fetchone()[0] or 0)
            cur.execute(
                f"INSERT INTO {table} ({columns}) SELECT {key}, {sums} FROM {table} "
                f"WHERE id <= {top} GROUP BY {key}{keep}"
            )
            cur.execute(f"DELETE FROM {table} WHERE id <= {top}")
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cur.fetchone()[0])
