"""Set-based inserts for the paths that write many rows at once (the month-end billing run,
imports): the rows go in as ``bulk_create`` would write them, but on PostgreSQL by one
``COPY ... FROM STDIN`` per call instead of ``INSERT ... SELECT * FROM UNNEST(...)``, whose
parameters the driver quotes into the SQL text value by value (arrays escaped with regular
expressions: most of a large batch's time). COPY fires the same triggers and checks the same
constraints as INSERT. Elsewhere (SQLite) ``bulk_create`` in batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

BATCH = 500

M = TypeVar("M", bound=models.Model)


def _next_ids(cur: Any, model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys from the table's sequence, in increasing order (one query)."""
    cur.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    return sorted(row[0] for row in cur.fetchall())


def _copy(cur: Any, model: type[models.Model], columns: Sequence[Any], rows: Any) -> None:
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    with cur.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_objects(objs: list[M]) -> list[M]:
    """``bulk_create(objs)``: the objects saved, each with its new primary key (auto primary
    keys only). Each value is prepared by its field as ``bulk_create`` prepares it."""
    if not objs:
        return objs
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(objs, batch_size=BATCH)
    fields = [f for f in model._meta.concrete_fields if not f.generated and not f.primary_key]
    pk = model._meta.pk
    # The connection itself, not the ``connection`` proxy (a thread-local lookup per value).
    conn = connections[DEFAULT_DB_ALIAS]
    with conn.wrap_database_errors, conn.cursor() as cur:
        ids = _next_ids(cur, model, len(objs))
        for obj, new_id in zip(objs, ids, strict=True):
            setattr(obj, pk.attname, new_id)
        _copy(
            cur,
            model,
            [pk.column, *(f.column for f in fields)],
            (
                (new_id, *(f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields))
                for obj, new_id in zip(objs, ids, strict=True)
            ),
        )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = conn.alias
    return objs


def insert_rows(
    model: type[models.Model],
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    constants: dict[str, Any],
    ids: bool = False,
    prepare: tuple[str, ...] = (),
) -> list[int]:
    """Insert ``rows`` (the values of ``columns``, attnames, ready for the database) into
    ``model``'s table, every other column set to ``constants`` or else its field's default,
    exactly as ``bulk_create`` of ``model(**constants, **row)`` would, without a model instance
    per row. ``prepare``: the columns whose values are not ready but the field's Python values
    (a JSON field's dict, say), prepared by the field as ``bulk_create`` prepares them.
    Returns the new ids in row order when ``ids``."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        made = model._default_manager.bulk_create(
            [model(**constants, **dict(zip(columns, row, strict=True))) for row in rows],
            batch_size=BATCH,
        )
        return [obj.pk for obj in made] if ids else []
    prototype = model(**constants)
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    fixed = [f for f in fields if not f.primary_key and f.attname not in columns]
    fixed_values = tuple(f.get_db_prep_save(f.pre_save(prototype, True), connection) for f in fixed)
    column_of = {f.attname: f.column for f in fields}
    names = [column_of[name] for name in columns] + [f.column for f in fixed]
    if prepare:
        conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: a thread-local lookup per value
        field_of = {f.attname: f for f in fields}
        preps = [
            (i, field_of[name].get_db_prep_save)
            for i, name in enumerate(columns)
            if name in prepare
        ]

        def prepared(row: tuple[Any, ...]) -> tuple[Any, ...]:
            values = list(row)
            for i, prep in preps:
                values[i] = prep(values[i], conn)
            return tuple(values)

        rows = [prepared(row) for row in rows]
    new_ids: list[int] = []
    with connection.wrap_database_errors, connection.cursor() as cur:
        if ids:
            new_ids = _next_ids(cur, model, len(rows))
            names.insert(0, model._meta.pk.column)
            _copy(
                cur,
                model,
                names,
                ((i, *row, *fixed_values) for i, row in zip(new_ids, rows, strict=True)),
            )
        else:
            _copy(cur, model, names, ((*row, *fixed_values) for row in rows))
    return new_ids
