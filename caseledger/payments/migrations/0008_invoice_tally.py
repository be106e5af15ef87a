"""The invoice tally (``payments.InvoiceTally``): its table, the triggers that keep it on both
databases, and its first rows from the invoices already there.

The triggers add one delta row per change that moves an invoice's contribution: its count and
total under its (status, responsible partner), and its balance due while ISSUED (its
settlement's total less paid, credited and written off; the invoice's total while it has no
settlement row). ``billing_invoice``: insert, delete, and an update of ``status``,
``responsible_partner_id`` or ``total_cents`` (the old contribution out under the old key, the
new one in under the new key, one row when the key stays). ``payments_invoicesettlement``:
insert, delete, and an update that changes its balance (or its invoice), a balance delta under
its invoice's key while the invoice is ISSUED. The SQL is this migration's own (frozen): a
changed trigger is a new migration.
"""

from django.db import migrations, models

TALLY = "payments_invoicetally"
COLUMNS = "status, responsible_partner_id, invoice_count, total_cents, balance_due_cents"


def _balance(ref: str) -> str:
    return (
        f"({ref}.total_cents - {ref}.paid_cents - {ref}.credited_cents - {ref}.written_off_cents)"
    )


def _invoice_balance(ref: str) -> str:
    """An invoice row's balance due, its settlement looked up (``ref``: OLD or NEW)."""
    settled = (
        f"(SELECT {_balance('s')} FROM payments_invoicesettlement s WHERE s.invoice_id = {ref}.id)"
    )
    return (
        f"CASE WHEN {ref}.status = 'ISSUED' THEN COALESCE({settled}, {ref}.total_cents) ELSE 0 END"
    )


def _deltas(parts: list[str]) -> str:
    """One INSERT of ``parts`` (SELECTs of status, partner, n, total, balance) summed per key,
    keys whose deltas cancel left out."""
    union = " UNION ALL ".join(parts)
    return (
        f"INSERT INTO {TALLY} ({COLUMNS}) SELECT st, rp, SUM(n), SUM(t), SUM(b) FROM ({union}) d "
        "GROUP BY st, rp HAVING SUM(n) <> 0 OR SUM(t) <> 0 OR SUM(b) <> 0;"
    )


def _invoice_part(ref: str, sign: str) -> str:
    return (
        f"SELECT {ref}.status AS st, {ref}.responsible_partner_id AS rp, {sign}1 AS n, "
        f"{sign}{ref}.total_cents AS t, {sign}({_invoice_balance(ref)}) AS b"
    )


def _settlement_part(ref: str, sign: str) -> str:
    """The balance a settlement row ``ref`` moves on its ISSUED invoice: in (``+``, its balance
    replaces the invoice's total) or out (``-``)."""
    moved = f"{_balance(ref)} - i.total_cents"
    return (
        "SELECT i.status AS st, i.responsible_partner_id AS rp, 0 AS n, 0 AS t, "
        f"{sign}({moved}) AS b FROM billing_invoice i "
        f"WHERE i.id = {ref}.invoice_id AND i.status = 'ISSUED'"
    )


INVOICE_INSERT = _deltas([_invoice_part("NEW", "")])
INVOICE_UPDATE = _deltas([_invoice_part("OLD", "-"), _invoice_part("NEW", "")])
INVOICE_DELETE = _deltas([_invoice_part("OLD", "-")])
SETTLEMENT_INSERT = _deltas([_settlement_part("NEW", "")])
SETTLEMENT_UPDATE = _deltas([_settlement_part("OLD", "-"), _settlement_part("NEW", "")])
SETTLEMENT_DELETE = _deltas([_settlement_part("OLD", "-")])

INVOICE_MOVED = (
    "OLD.status {d} NEW.status OR OLD.responsible_partner_id {d} NEW.responsible_partner_id "
    "OR OLD.total_cents {d} NEW.total_cents"
)
SETTLEMENT_MOVED = (
    "OLD.invoice_id {d} NEW.invoice_id OR " + _balance("OLD") + " {d} " + _balance("NEW")
)

SQLITE_CREATE = [
    f"CREATE TRIGGER payments_tally_invoice_insert AFTER INSERT ON billing_invoice "
    f"BEGIN {INVOICE_INSERT} END;",
    f"CREATE TRIGGER payments_tally_invoice_update AFTER UPDATE ON billing_invoice "
    f"WHEN {INVOICE_MOVED.format(d='IS NOT')} BEGIN {INVOICE_UPDATE} END;",
    f"CREATE TRIGGER payments_tally_invoice_delete AFTER DELETE ON billing_invoice "
    f"BEGIN {INVOICE_DELETE} END;",
    f"CREATE TRIGGER payments_tally_settlement_insert AFTER INSERT ON payments_invoicesettlement "
    f"BEGIN {SETTLEMENT_INSERT} END;",
    f"CREATE TRIGGER payments_tally_settlement_update AFTER UPDATE ON payments_invoicesettlement "
    f"WHEN {SETTLEMENT_MOVED.format(d='IS NOT')} BEGIN {SETTLEMENT_UPDATE} END;",
    f"CREATE TRIGGER payments_tally_settlement_delete AFTER DELETE ON payments_invoicesettlement "
    f"BEGIN {SETTLEMENT_DELETE} END;",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS payments_tally_{table}_{op};"
    for table in ("invoice", "settlement")
    for op in ("insert", "update", "delete")
]


def _pg_function(name: str, insert: str, update: str, delete: str, lock: bool = False) -> str:
    """``lock``: a settlement's trigger first takes FOR SHARE on its invoice row, so it waits
    for a transaction changing the invoice (a void) to end and its INSERT (a new snapshot)
    then reads the invoice as committed; the invoice's trigger reads the settlement after the
    settlement's writer ended for the same reason (it waits on this lock to update)."""
    ins = upd = dele = ""
    if lock:
        share = "PERFORM 1 FROM billing_invoice WHERE id IN ({ids}) FOR SHARE; "
        ins = share.format(ids="NEW.invoice_id")
        upd = share.format(ids="OLD.invoice_id, NEW.invoice_id")
        dele = share.format(ids="OLD.invoice_id")
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN {ins}{insert} RETURN NULL; END IF; "
        f"IF TG_OP = 'UPDATE' THEN {upd}{update} RETURN NULL; END IF; "
        f"{dele}{delete} RETURN NULL; END; $$ LANGUAGE plpgsql;"
    )


def _pg_triggers(name: str, table: str, moved: str) -> list[str]:
    return [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} FOR EACH ROW "
        f"WHEN ({moved.format(d='IS DISTINCT FROM')}) EXECUTE FUNCTION {name}();",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();",
    ]


PG_CREATE = [
    _pg_function("payments_tally_invoice", INVOICE_INSERT, INVOICE_UPDATE, INVOICE_DELETE),
    _pg_function(
        "payments_tally_settlement",
        SETTLEMENT_INSERT,
        SETTLEMENT_UPDATE,
        SETTLEMENT_DELETE,
        lock=True,
    ),
    *_pg_triggers("payments_tally_invoice", "billing_invoice", INVOICE_MOVED),
    *_pg_triggers("payments_tally_settlement", "payments_invoicesettlement", SETTLEMENT_MOVED),
]
PG_DROP = [
    f"DROP TRIGGER IF EXISTS payments_tally_{name}_{op} ON {table};"
    for name, table in (
        ("invoice", "billing_invoice"),
        ("settlement", "payments_invoicesettlement"),
    )
    for op in ("ins", "upd", "del")
] + [
    "DROP FUNCTION IF EXISTS payments_tally_invoice();",
    "DROP FUNCTION IF EXISTS payments_tally_settlement();",
]

# The tally of the invoices already there (after the triggers, in the same transaction).
FILL = (
    f"INSERT INTO {TALLY} ({COLUMNS}) SELECT i.status, i.responsible_partner_id, COUNT(*), "
    "SUM(i.total_cents), SUM(CASE WHEN i.status = 'ISSUED' THEN "
    f"COALESCE({_balance('s')}, i.total_cents) ELSE 0 END) "
    "FROM billing_invoice i LEFT JOIN payments_invoicesettlement s ON s.invoice_id = i.id "
    "GROUP BY i.status, i.responsible_partner_id"
)


def create(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    for sql in [*(PG_CREATE if pg else SQLITE_CREATE), FILL]:
        schema_editor.execute(sql, params=None)


def drop(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    for sql in PG_DROP if pg else SQLITE_DROP:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0017_timeentry_billing_time_index"),
        ("payments", "0007_payment_status_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="InvoiceTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("status", models.CharField(max_length=12)),
                ("responsible_partner_id", models.BigIntegerField(null=True)),
                ("invoice_count", models.BigIntegerField()),
                ("total_cents", models.BigIntegerField()),
                ("balance_due_cents", models.BigIntegerField()),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["status", "responsible_partner_id"], name="payments_tally_key_idx"
                    )
                ],
            },
        ),
        migrations.RunPython(create, drop),
    ]
