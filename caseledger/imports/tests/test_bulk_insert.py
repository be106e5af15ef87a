"""``core.bulk`` as the import writes with it (COPY on PostgreSQL, ``bulk_create`` elsewhere): the
objects get their new ids in order, every column holds what ``bulk_create`` would have written
(defaults, JSON, dates, encrypted fields read back), and a row the table's constraints refuse
refuses the whole call, leaving nothing behind."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, transaction

from caseledger.core import bulk
from caseledger.credits.tests import factories as F
from caseledger.imports.models import ImportJob, ImportRecord, LegacyInvoice, LegacyInvoiceLine

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _invoice(matter, number: str, *, total: int = 10_000, balance: int = 4_000) -> LegacyInvoice:
    return LegacyInvoice(
        number=number,
        client_id=matter.client_id,
        matter=matter,
        issue_date=date(2025, 3, 1),
        due_date=None,
        total_cents=total,
        balance_cents=balance,
        created_at=NOW,
    )


def test_objects_get_their_ids_and_the_columns_bulk_create_would_write() -> None:
    matter = F.matter()
    made = bulk.insert_objects([_invoice(matter, "L-1"), _invoice(matter, "L-2", balance=0)])
    assert [m.pk for m in made] == sorted(m.pk for m in made)
    assert all(not m._state.adding for m in made)
    stored = list(LegacyInvoice.objects.order_by("id").values())
    assert [(s["id"], s["number"], s["balance_cents"]) for s in stored] == [
        (made[0].pk, "L-1", 4_000),
        (made[1].pk, "L-2", 0),
    ]
    assert stored[0]["paid_cents"] == 0  # the field's default, not sent by the caller
    assert stored[0]["due_date"] is None
    lines = bulk.insert_objects(
        [LegacyInvoiceLine(invoice=made[0], position=i, category="fees", amount_cents=5_000)
         for i in range(2)]
    )  # fmt: skip
    assert [line.invoice_id for line in lines] == [made[0].pk, made[0].pk]
    job = ImportJob.objects.create(
        source="caseledger", filename="f.csv", content="", created_at=NOW
    )
    record = bulk.insert_objects(
        [
            ImportRecord(
                kind="INVOICE", source="caseledger", key="L-1", object_id=made[0].pk,
                data={"lines": [{"amount": "50.00"}], "note": "ü"}, data_hash="x" * 64,
                job=job, created_at=NOW, updated_at=NOW,
            )
        ]
    )[0]  # fmt: skip
    assert ImportRecord.objects.get(pk=record.pk).data == {
        "lines": [{"amount": "50.00"}],
        "note": "ü",
    }


def test_a_row_the_constraints_refuse_refuses_the_call_and_writes_nothing() -> None:
    matter = F.matter()
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_objects(
            [_invoice(matter, "L-1"), _invoice(matter, "L-2", total=1_000, balance=2_000)]
        )
    assert not LegacyInvoice.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_objects([_invoice(matter, "L-3"), _invoice(matter, "L-3")])  # unique number
    assert not LegacyInvoice.objects.exists()


def test_rows_take_the_defaults_and_constants_of_the_columns_not_given() -> None:
    matter = F.matter()
    ids = bulk.insert_rows(
        LegacyInvoice,
        ("number", "client_id", "matter_id", "issue_date", "total_cents", "balance_cents"),
        [("L-9", matter.client_id, matter.pk, date(2025, 1, 2), 500, 500)],
        constants={"created_at": NOW},
        ids=True,
    )
    row = LegacyInvoice.objects.values().get(pk=ids[0])
    assert (row["number"], row["paid_cents"], row["created_at"]) == ("L-9", 0, NOW)
    assert bulk.insert_rows(LegacyInvoice, ("number",), [], constants={}) == []
