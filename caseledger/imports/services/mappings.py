"""Column mappings: the one to use for a source, and saving a named mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from caseledger.core import audit
from caseledger.imports.exceptions import ImportRefused
from caseledger.imports.models import (
    ImportMapping,
)
from caseledger.imports.services.reading import MAPPING_UNKNOWN_FIELD, source_get
from caseledger.imports.sources import SOURCES, Source

MAPPING_NAME_REQUIRED = "name: give the mapping a name"
MAPPING_SHIPPED = "name: {name!r} is a shipped mapping; save yours under another name"


def mapping_for(source: Source, *, now: datetime) -> ImportMapping:
    """The shipped mapping of ``source`` (created on first use, named after the source)."""
    mapping, _ = ImportMapping.objects.get_or_create(
        name=source.code,
        defaults={
            "source": source.code,
            "columns": source.columns,
            "defaults": source.defaults,
            "shipped": True,
            "created_at": now,
            "updated_at": now,
        },
    )
    return mapping


@transaction.atomic
def mapping_save(
    *,
    name: str,
    source: str,
    columns: dict[str, str],
    defaults: dict[str, str],
    actor: Any,
    now: datetime,
) -> ImportMapping:
    """Save (create or replace) the firm's own mapping ``name``; shipped ones stay as shipped."""
    src = source_get(source)
    name = (name or "").strip()
    if not name:
        raise ImportRefused(MAPPING_NAME_REQUIRED, field="name")
    if name in SOURCES:
        raise ImportRefused(MAPPING_SHIPPED.format(name=name), field="name")
    names = set(src.field_names())
    for target in [*columns, *defaults]:
        if target not in names:
            raise ImportRefused(
                MAPPING_UNKNOWN_FIELD.format(field=target, source=src.code), field="columns"
            )
    columns = {k: v for k, v in columns.items() if v}
    defaults = {k: v for k, v in defaults.items() if v}
    mapping, made = ImportMapping.objects.update_or_create(
        name=name,
        defaults={
            "source": src.code,
            "columns": columns,
            "defaults": defaults,
            "updated_at": now,
        },
        create_defaults={
            "source": src.code,
            "columns": columns,
            "defaults": defaults,
            "created_at": now,
            "updated_at": now,
        },
    )
    audit.record(
        actor=actor,
        action="imports.mapping_saved",
        at=now,
        obj=mapping,
        after={"columns": columns, "defaults": defaults, "created": made},
    )
    return mapping
