"""The ``trust`` domain's change triggers (``core.changes``; ``trust.selectors.TRUST_WATCHED``):
every change that can move the trust dashboard's figures adds a row ('trust', a random weight)
to ``core_changecount`` in its transaction, so a cached trust read is computed again. A first
row of a random weight starts the count (so no two databases start at the same count).

Watched: every insert, update and delete of the trust deposits, their reversals, dispute holds,
matter trust settings and trust requests; the client trust liability's sub-ledger rows
(``is_trust_liability``: every posting on that account moves one, ``ledger.locks``), when
created, deleted or moved; a matter's number, client, status and the people it is assigned to
(what the dashboard shows and who may see it), not its stage; a client's name. The SQL is this
migration's own (frozen): a change is a new migration."""

from django.db import migrations

WEIGHT_SQLITE = "1 + abs(random() % 1099511627775)"  # PostgreSQL: core_change_bump's
BUMP_SQLITE = f"INSERT INTO core_changecount (domain, weight) VALUES ('trust', {WEIGHT_SQLITE});"
ALL = ("trust_trustdeposit", "trust_depositreversal", "trust_disputehold",
       "trust_mattertrust", "trust_trustrequest")  # fmt: skip
MATTER_COLUMNS = (
    "id", "number", "client_id", "status", "attorney_id", "paralegal_id",
    "responsible_partner_id",
)  # fmt: skip
CLIENT_COLUMNS = ("id", "name")
SUBLEDGER_COLUMNS = ("account_id", "client_id", "matter_id", "balance_cents", "is_trust_liability")


def _moved(columns, differ):
    return " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in columns)


def _conditional(differ):
    """(table, name, {op: WHEN condition or ""}) of the tables watched in part."""
    subledger = f"(OLD.is_trust_liability OR NEW.is_trust_liability) AND ({_moved(SUBLEDGER_COLUMNS, differ)})"
    return [
        ("ledger_subledgerbalance", "subledger", {
            "INSERT": "NEW.is_trust_liability", "UPDATE": subledger,
            "DELETE": "OLD.is_trust_liability"}),
        ("matters_matter", "matter", {
            "UPDATE": _moved(MATTER_COLUMNS, differ), "DELETE": ""}),
        ("clients_client", "client", {
            "UPDATE": _moved(CLIENT_COLUMNS, differ), "DELETE": ""}),
    ]  # fmt: skip


def _triggers(differ):
    """(trigger name, table, op, condition) of every trigger."""
    rows = [(f"trust_changes_{t}_{op.lower()}", t, op, "")
            for t in ALL for op in ("INSERT", "UPDATE", "DELETE")]  # fmt: skip
    for table, name, ops in _conditional(differ):
        rows += [
            (f"trust_changes_{name}_{op.lower()}", table, op, cond) for op, cond in ops.items()
        ]
    return rows


def create(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    for name, table, op, cond in _triggers("IS DISTINCT FROM" if pg else "IS NOT"):
        if pg:
            when = f"WHEN ({cond}) " if cond else ""
            sql = (f"CREATE TRIGGER {name} AFTER {op} ON {table} FOR EACH ROW {when}"
                   "EXECUTE FUNCTION core_change_bump('trust');")  # fmt: skip
        else:
            when = f"WHEN {cond} " if cond else ""
            sql = f"CREATE TRIGGER {name} AFTER {op} ON {table} {when}BEGIN {BUMP_SQLITE} END;"
        schema_editor.execute(sql, params=None)
    weight = "1 + floor(random() * 1099511627775)::bigint" if pg else WEIGHT_SQLITE
    schema_editor.execute(
        f"INSERT INTO core_changecount (domain, weight) VALUES ('trust', {weight});", params=None
    )


def drop(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    for name, table, _op, _cond in _triggers("IS DISTINCT FROM"):
        on = f" ON {table}" if pg else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{on};", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0011_change_count"),
        ("ledger", "0005_subledger_balance_fillfactor"),
        ("matters", "0010_matter_documents"),
        ("clients", "0009_beneficiary_account_access"),
        ("trust", "0007_deposit_reversal_bank_line"),
    ]

    operations = [migrations.RunPython(create, drop)]
