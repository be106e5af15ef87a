"""Writing a batch of units: record by record (changed units the user consented to update,
opening balances) and set-based for new clients, matters, activities and invoices; ``_run_units``
writes one batch for the dry run and the commit alike."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Value
from django.db.models.functions import Upper

from caseledger.clients import services as client_services
from caseledger.clients.models import Client
from caseledger.core import audit, bulk, clock
from caseledger.core.exceptions import ApplicationError
from caseledger.imports import locks
from caseledger.imports.choices import CutoverStatus, RecordKind
from caseledger.imports.models import (
    LEGACY_PREFIX,
    Cutover,
    ImportJob,
    ImportRecord,
    LegacyActivity,
    LegacyHistoryAdjustment,
    LegacyHistoryPayment,
    LegacyInvoice,
    LegacyInvoiceLine,
    OpeningBalance,
)
from caseledger.imports.services.common import (
    BAD_DATE,
    BAD_VALUE,
    DUPLICATE,
    MISSING_CLIENT,
    MSG_ADJUSTED_AFTER_CUTOVER,
    MSG_ADJUSTMENTS_OVER_TOTAL,
    MSG_CASE_TYPE,
    MSG_CLIENT_AMBIGUOUS,
    MSG_CLIENT_MISSING,
    MSG_INVOICE_UNKNOWN,
    MSG_MATTER_OTHER_CLIENT,
    MSG_MATTER_UNKNOWN,
    MSG_PAID_AFTER_CUTOVER,
    MSG_PAYMENTS_NOT_SUM,
    MSG_PAYMENTS_SHORT_HINT,
    MSG_TRUST_TWICE,
    PAYMENTS_NOT_SUM,
    REFUSED,
    UNKNOWN_INVOICE,
    UNKNOWN_MATTER,
    Change,
    Problem,
    Report,
    Unit,
)
from caseledger.matters import services as matter_services
from caseledger.matters.models import CaseType, Matter, Stage

HISTORY_FROZEN = "cutover: finalized on {date}; imported balances and invoices can no longer change"

# -- writing: one function per kind, through the owning app's services --------------------------


def _data_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _record_for(kind: str, key: str) -> ImportRecord | None:
    return ImportRecord.objects.filter(kind=kind, key=key).order_by("id").first()


def _find_client(unit: Unit, name: str, key: str) -> Client:
    if key:
        record = _record_for(RecordKind.CLIENT, key)
        if record is not None:
            return Client.objects.get(pk=record.object_id)
        raise _UnitProblem(MISSING_CLIENT, MSG_CLIENT_MISSING.format(name=key), "client")
    matches = list(Client.objects.filter(name__iexact=name).order_by("id")[:3])
    if not matches:
        raise _UnitProblem(MISSING_CLIENT, MSG_CLIENT_MISSING.format(name=name), "client")
    if len(matches) > 1:
        raise _UnitProblem(
            MISSING_CLIENT, MSG_CLIENT_AMBIGUOUS.format(count=len(matches), name=name), "client"
        )
    return matches[0]


def _find_matter(ref: str) -> Matter:
    record = _record_for(RecordKind.MATTER, ref)
    if record is not None:
        return Matter.objects.get(pk=record.object_id)
    matter = (
        Matter.objects.filter(number__in=[ref, f"{LEGACY_PREFIX}{ref}"[:32]]).order_by("id").first()
    )
    if matter is None:
        raise _UnitProblem(UNKNOWN_MATTER, MSG_MATTER_UNKNOWN.format(ref=ref), "matter")
    return matter


class _UnitProblem(Exception):
    def __init__(self, rule: str, message: str, field_name: str = "") -> None:
        super().__init__(message)
        self.rule, self.message, self.field = rule, message, field_name


def _history_open() -> None:
    finalized = Cutover.objects.filter(status=CutoverStatus.FINALIZED).order_by("id").first()
    if finalized is not None:
        raise _UnitProblem(
            REFUSED, HISTORY_FROZEN.format(date=finalized.as_of.isoformat()), "cutover"
        )


# Record by record: a changed unit the user consented to update (clients, matters, invoices),
# and the opening balances. New clients, matters, activities and invoices go in set-based
# (``_BULK_WRITERS``); an activity's key is the hash of its data, so it never changes.


def _write_client(unit: Unit, existing: ImportRecord, actor: Any, now: datetime) -> int:
    d = unit.data
    fields = {k: d[k] for k in ("email", "phone", "address_line1", "city", "region", "postal_code")}
    fields["country"] = d["country"]
    client = Client.objects.get(pk=existing.object_id)
    client_services.client_update(
        client=client, actor=actor, now=now, name=d["name"], client_type=d["client_type"], **fields
    )
    return int(client.pk)


def _write_matter(unit: Unit, existing: ImportRecord, actor: Any, now: datetime) -> int:
    matter = Matter.objects.get(pk=existing.object_id)
    matter_services.matter_update(matter=matter, actor=actor, now=now, title=unit.data["title"])
    return int(matter.pk)


def _write_invoice(unit: Unit, existing: ImportRecord, actor: Any, now: datetime) -> int:
    _history_open()
    d = unit.data
    matter = _find_matter(d["matter"])
    client = _find_client(unit, d["client"], "")
    if matter.client_id != client.pk:
        raise _UnitProblem(
            UNKNOWN_MATTER,
            f"matter: {d['matter']} belongs to another client than {d['client']!r}",
            "matter",
        )
    invoice = locks.legacy_invoice_lock(invoice_id=existing.object_id)
    invoice.client, invoice.matter = client, matter
    invoice.issue_date = date.fromisoformat(d["issue_date"])
    invoice.due_date = date.fromisoformat(d["due_date"]) if d["due_date"] else None
    invoice.total_cents, invoice.balance_cents = d["total_cents"], d["balance_cents"]
    invoice.save()
    invoice.lines.all().delete()
    LegacyInvoiceLine.objects.bulk_create(
        [
            LegacyInvoiceLine(invoice=invoice, position=i, **line)
            for i, line in enumerate(d["lines"])
        ]
    )
    audit.record(actor=actor, action="imports.invoice_reimported", at=now, obj=invoice, after=d)
    return int(invoice.pk)


def _write_opening(unit: Unit, existing: Any, actor: Any, now: datetime) -> int:
    _history_open()
    d = unit.data
    matter = _find_matter(d["matter_key"]) if unit.kind == RecordKind.TRUST else None
    if d.get("client_key") or matter is None:
        client = _find_client(unit, "", d["client_key"])
    else:  # a vendor's trust row names the matter (and the client by name, checked here)
        client = matter.client
        if d.get("client") and d["client"].lower() != client.name.lower():
            raise _UnitProblem(
                UNKNOWN_MATTER,
                MSG_MATTER_OTHER_CLIENT.format(matter=d["matter_key"], client=d["client"]),
                "matter",
            )
    if existing is None and matter is not None:
        if OpeningBalance.objects.filter(kind=RecordKind.TRUST, matter=matter).exists():
            raise _UnitProblem(
                DUPLICATE, MSG_TRUST_TWICE.format(matter=matter.number), "trust_balance"
            )
    if existing is not None:
        balance = locks.opening_balance_lock(balance_id=existing.object_id)
        balance.amount_cents = d["amount_cents"]
        balance.save(update_fields=["amount_cents"])
    else:
        balance = OpeningBalance.objects.create(
            kind=unit.kind,
            client=client,
            matter=matter,
            amount_cents=d["amount_cents"],
            created_at=now,
        )
    audit.record(
        actor=actor, action="imports.opening_balance_imported", at=now, obj=balance, after=d
    )
    return int(balance.pk)


# -- payments and adjustments before the cutover (history) ---------------------------------------


def _history_payment_fields(unit: Unit) -> dict[str, Any]:
    d = unit.data
    return {
        "received_date": date.fromisoformat(d["date"]),
        "amount_cents": d["amount_cents"],
        "method": d["method"],
        "reference": d["reference"],
        "description": d["description"],
    }


def _history_adjustment_fields(unit: Unit) -> dict[str, Any]:
    d = unit.data
    return {
        "adjustment_date": date.fromisoformat(d["date"]),
        "kind": d["kind"],
        "amount_cents": d["amount_cents"],
        "reason": d["reason"],
    }


@dataclass(frozen=True)
class _History:
    """One kind of history row kept against an imported invoice: its table, its row lock, the
    noun of its audit actions (``imports.<noun>_imported`` / ``_reimported``), its fields
    from a unit and the message for a date on or after the cutover."""

    model: type[LegacyHistoryPayment] | type[LegacyHistoryAdjustment]
    lock: Callable[[int], LegacyHistoryPayment | LegacyHistoryAdjustment]
    noun: str
    fields: Callable[[Unit], dict[str, Any]]
    after_cutover: str


_HISTORY: dict[str, _History] = {
    RecordKind.PAYMENT: _History(
        LegacyHistoryPayment,
        lambda pk: locks.history_payment_lock(payment_id=pk),
        "payment",
        _history_payment_fields,
        MSG_PAID_AFTER_CUTOVER,
    ),
    RecordKind.ADJUSTMENT: _History(
        LegacyHistoryAdjustment,
        lambda pk: locks.history_adjustment_lock(adjustment_id=pk),
        "adjustment",
        _history_adjustment_fields,
        MSG_ADJUSTED_AFTER_CUTOVER,
    ),
}


class _HistoryContext:
    """What checking a batch of history rows (payments or adjustments) needs, read once: the
    imported invoices by number, the draft cutover's date, and per invoice the payments and
    adjustments already imported (kind, source, key, cents)."""

    def __init__(self, units: list[Unit]) -> None:
        numbers = {u.data["bill"] for u in units}
        self.invoices = LegacyInvoice.objects.in_bulk(numbers, field_name="number")
        cutover = Cutover.objects.filter(status=CutoverStatus.DRAFT).order_by("-id").first()
        self.as_of = cutover.as_of if cutover is not None else None
        self.imported: dict[int, list[tuple[str, str, str, int]]] = defaultdict(list)
        ids = [i.pk for i in self.invoices.values()]
        for kind, history in _HISTORY.items():
            for invoice_id, source, key, cents in history.model.objects.filter(
                invoice__in=ids
            ).values_list("invoice_id", "source", "key", "amount_cents"):
                self.imported[invoice_id].append((kind, source, key, cents))

    def check(self, unit: Unit) -> LegacyInvoice:
        """The unit's invoice, or the problem: no such invoice, dated on or after the cutover,
        or the bill's history not adding up (``_sum_check``)."""
        d = unit.data
        invoice = self.invoices.get(d["bill"])
        if invoice is None:
            raise _UnitProblem(
                UNKNOWN_INVOICE, MSG_INVOICE_UNKNOWN.format(number=d["bill"]), "bill"
            )
        when = date.fromisoformat(d["date"])
        if self.as_of is not None and when >= self.as_of:
            raise _UnitProblem(
                BAD_DATE,
                _HISTORY[unit.kind].after_cutover.format(
                    date=d["date"], as_of=self.as_of.isoformat()
                ),
                "date",
            )
        if unit.values.get("bill_complete", True):
            self._sum_check(unit, invoice)
        return invoice

    def _sum_check(self, unit: Unit, invoice: LegacyInvoice) -> None:
        """Per bill: its payments and adjustments (the file's rows of the unit's kind, and those
        imported before from other rows, of both kinds) plus its balance at cutover must equal
        its total. Adjustments imported before any payment of the bill need only not exceed it:
        its payments, imported after them, complete the sum (a bill with both cannot add up in
        either file alone)."""
        from caseledger.core.amounts import firm_money

        v = unit.values
        keys = set(v.get("bill_keys", [unit.key]))
        source = v.get("source", "")
        others = [
            (kind, cents)
            for kind, s, k, cents in self.imported[invoice.pk]
            if not (kind == unit.kind and s == source and k in keys)
        ]
        sums: dict[str, int] = {RecordKind.PAYMENT: 0, RecordKind.ADJUSTMENT: 0}
        for kind, cents in others:
            sums[kind] += cents
        sums[unit.kind] += int(v.get("bill_cents", unit.data["amount_cents"]))
        paid, adjusted = sums[RecordKind.PAYMENT], sums[RecordKind.ADJUSTMENT]
        together = paid + adjusted + invoice.balance_cents
        payments_in = unit.kind == RecordKind.PAYMENT or any(
            kind == RecordKind.PAYMENT for kind, _ in others
        )
        if together == invoice.total_cents or (not payments_in and together < invoice.total_cents):
            return
        short = together < invoice.total_cents
        message = MSG_PAYMENTS_NOT_SUM if payments_in else MSG_ADJUSTMENTS_OVER_TOTAL
        raise _UnitProblem(
            PAYMENTS_NOT_SUM,
            message.format(
                number=invoice.number,
                paid=firm_money(paid),
                adjusted=firm_money(adjusted),
                where=", ".join(str(x) for x in v.get("bill_lines", [unit.line])),
                more=f", and {len(others)} imported before" if others else "",
                balance=firm_money(invoice.balance_cents),
                together=firm_money(together),
                total=firm_money(invoice.total_cents),
                hint=MSG_PAYMENTS_SHORT_HINT if unit.kind == RecordKind.PAYMENT and short else "",
            ),
            "amount",
        )


def _write_history(unit: Unit, existing: ImportRecord, actor: Any, now: datetime) -> int:
    """A history payment or adjustment whose row changed (the user consented): the same
    record, updated."""
    _history_open()
    history = _HISTORY[unit.kind]
    invoice = _HistoryContext([unit]).check(unit)
    row = history.lock(existing.object_id)
    for name, value in {"invoice": invoice, **history.fields(unit)}.items():
        setattr(row, name, value)
    row.save()
    audit.record(
        actor=actor,
        action=f"imports.{history.noun}_reimported",
        at=now,
        obj=invoice,
        after=unit.data,
    )
    return int(row.pk)


def _bulk_history(units: list[Unit], actor: Any, now: datetime, fail: Fail) -> list[int | None]:
    """New history payments or adjustments (``units`` are of one kind): each against its
    imported invoice, before the cutover date, and adding up per bill; never posted, never a
    payments.Payment or a billing credit note or write-off (nothing is sent or reminded).
    Their audit events are about the invoice (so a purge of its matter finds them)."""
    try:
        _history_open()
    except _UnitProblem as exc:
        for unit in units:
            fail(unit, exc)
        return [None] * len(units)
    context = _HistoryContext(units)
    built: list[tuple[Unit, LegacyHistoryPayment | LegacyHistoryAdjustment]] = []
    placed: list[int | None] = []
    for unit in units:
        try:
            invoice = context.check(unit)
        except _UnitProblem as exc:
            fail(unit, exc)
            placed.append(None)
            continue
        history = _HISTORY[unit.kind]
        row = history.model(
            invoice=invoice,
            source=unit.values.get("source", ""),
            key=unit.key,
            created_at=now,
            **history.fields(unit),
        )
        built.append((unit, row))
        placed.append(len(built) - 1)
    rows = bulk.insert_objects([r for _, r in built])
    audit.record_many(
        actor=actor,
        at=now,
        events=[
            audit.Pending(
                f"imports.{_HISTORY[unit.kind].noun}_imported", obj=row.invoice, after=unit.data
            )
            for (unit, _), row in zip(built, rows, strict=True)
        ],
    )
    return [None if i is None else int(rows[i].pk) for i in placed]


_WRITERS = {
    RecordKind.CLIENT: _write_client,
    RecordKind.MATTER: _write_matter,
    RecordKind.INVOICE: _write_invoice,
    RecordKind.TRUST: _write_opening,
    RecordKind.CREDIT: _write_opening,
    RecordKind.PAYMENT: _write_history,
    RecordKind.ADJUSTMENT: _write_history,
}


def _write_unit(
    unit: Unit,
    *,
    source: str,
    existing: ImportRecord | None,
    job: ImportJob,
    actor: Any,
    now: datetime,
    report: Report,
) -> None:
    """Write one unit the record-by-record way (inside the caller's transaction) and its import
    record: a changed unit updated with consent, and the kinds with no bulk writer."""
    digest = _data_hash(unit.data)
    object_id = _WRITERS[unit.kind](unit, existing, actor, now)  # type: ignore[index]
    if existing is None:
        ImportRecord.objects.create(
            kind=unit.kind,
            source=source,
            key=unit.key,
            object_id=object_id,
            data=unit.data,
            data_hash=digest,
            job=job,
            created_at=now,
            updated_at=now,
        )
        report.created += 1
    else:
        existing.data, existing.data_hash, existing.updated_at = unit.data, digest, now
        existing.save(update_fields=["data", "data_hash", "updated_at"])
        report.updated += 1


# -- writing a batch's new units set-based: check every unit in Python (with one query per kind
# of lookup), then one bulk INSERT per table and one for their audit events ----------------------

Fail = Callable[[Unit, Exception], None]


def _clients_by_name(names: Iterable[str]) -> dict[str, list[Client]]:
    """The clients named (case-insensitively) any of ``names``, by lower-cased name."""
    wanted = {n for n in names if n}
    out: dict[str, list[Client]] = defaultdict(list)
    if not wanted:
        return out
    # name__iexact for every name at once: UPPER(name) IN (UPPER(%s), ...), one comparison
    # per row (an OR of iexact terms upper-cases each row once per name).
    clients = (
        Client.objects.annotate(upper_name=Upper("name"))
        .filter(upper_name__in=[Upper(Value(n)) for n in sorted(wanted)])
        .order_by("id")
    )
    for client in clients:
        out[client.name.lower()].append(client)
    return out


def _client_named(by_name: dict[str, list[Client]], name: str) -> Client:
    matches = by_name.get(name.lower(), [])
    if not matches:
        raise _UnitProblem(MISSING_CLIENT, MSG_CLIENT_MISSING.format(name=name), "client")
    if len(matches) > 1:
        raise _UnitProblem(
            MISSING_CLIENT,
            MSG_CLIENT_AMBIGUOUS.format(count=min(len(matches), 3), name=name),
            "client",
        )
    return matches[0]


def _records_by_key(kind: str, keys: Iterable[str]) -> dict[str, ImportRecord]:
    """The first import record of ``kind`` per key (any source), as ``_record_for`` finds it."""
    out: dict[str, ImportRecord] = {}
    for record in ImportRecord.objects.filter(kind=kind, key__in=set(keys)).order_by("-id"):
        out[record.key] = record
    return out


def _matters_by_ref(refs: Iterable[str]) -> dict[str, Matter]:
    """``_find_matter`` for many references: by import key, else by number or L-number."""
    refs = set(refs)
    records = _records_by_key(RecordKind.MATTER, refs)
    by_id = Matter.objects.in_bulk([r.object_id for r in records.values()])
    out = {ref: by_id[r.object_id] for ref, r in records.items() if r.object_id in by_id}
    rest = refs - set(out)
    if rest:
        numbers = {n: ref for ref in rest for n in (f"{LEGACY_PREFIX}{ref}"[:32], ref)}
        for matter in Matter.objects.filter(number__in=numbers).order_by("-id"):
            out[numbers[matter.number]] = matter
    return out


def _matter_ref(by_ref: dict[str, Matter], ref: str) -> Matter:
    matter = by_ref.get(ref)
    if matter is None:
        raise _UnitProblem(UNKNOWN_MATTER, MSG_MATTER_UNKNOWN.format(ref=ref), "matter")
    return matter


def _bulk_clients(units: list[Unit], actor: Any, now: datetime, fail: Fail) -> list[int | None]:
    built: list[tuple[Client, dict[str, Any]]] = []
    placed: list[int | None] = []
    today = clock.firm_date(now)
    for unit in units:
        d = unit.data
        fields = {k: d[k] for k in ("email", "phone", "address_line1", "city", "region")}
        fields.update(postal_code=d["postal_code"], country=d["country"])
        try:
            built.append(
                client_services.client_build(
                    actor=actor,
                    now=now,
                    name=d["name"],
                    kind=d["kind"],
                    client_type=d["client_type"],
                    today=today,
                    **fields,
                )
            )
            placed.append(len(built) - 1)
        except ApplicationError as exc:
            fail(unit, exc)
            placed.append(None)
    clients = client_services.client_create_many(actor=actor, now=now, built=built)
    return [None if i is None else int(clients[i].pk) for i in placed]


def _bulk_matters(units: list[Unit], actor: Any, now: datetime, fail: Fail) -> list[int | None]:
    keyed = _records_by_key(RecordKind.CLIENT, [u.data["client_key"] for u in units])
    keyed_clients = Client.objects.in_bulk([r.object_id for r in keyed.values()])
    by_name = _clients_by_name(u.data["client"] for u in units if not u.data.get("client_key"))
    case_types = {
        ct.code: ct
        for ct in CaseType.objects.filter(
            code__in={u.data["case_type"] for u in units}
        ).prefetch_related(Prefetch("stages", queryset=Stage.objects.order_by("position", "id")))
    }
    taken = set(
        Matter.objects.filter(number__in=[u.data["number"] for u in units]).values_list(
            "number", flat=True
        )
    )
    built: list[Matter] = []
    placed: list[int | None] = []
    for unit in units:
        d = unit.data
        try:
            if d.get("client_key"):
                record = keyed.get(d["client_key"])
                client = keyed_clients.get(record.object_id) if record else None
                if client is None:
                    raise _UnitProblem(
                        MISSING_CLIENT, MSG_CLIENT_MISSING.format(name=d["client_key"]), "client"
                    )
            else:
                client = _client_named(by_name, d["client"])
            case_type = case_types.get(d["case_type"])
            if case_type is None:
                raise _UnitProblem(
                    BAD_VALUE, MSG_CASE_TYPE.format(value=d["case_type"]), "case_type"
                )
            matter = matter_services.matter_import_build(
                client=client,
                case_type=case_type,
                number=d["number"],
                title=d["title"],
                opened_date=date.fromisoformat(d["opened_date"]),
                closed_date=date.fromisoformat(d["closed_date"]) if d["closed_date"] else None,
                now=now,
                stages=list(case_type.stages.all()),
            )
            if matter.number in taken:
                raise matter_services.MatterError(
                    matter_services.MATTER_NUMBER_TAKEN.format(number=matter.number),
                    field="number",
                )
            taken.add(matter.number)
            built.append(matter)
            placed.append(len(built) - 1)
        except (_UnitProblem, ApplicationError) as exc:
            fail(unit, exc)
            placed.append(None)
    matters = matter_services.matter_import_many(matters=built, actor=actor, now=now)
    return [None if i is None else int(matters[i].pk) for i in placed]


def _bulk_activities(units: list[Unit], actor: Any, now: datetime, fail: Fail) -> list[int | None]:
    by_ref = _matters_by_ref(u.data["matter"] for u in units)
    built: list[LegacyActivity] = []
    placed: list[int | None] = []
    for unit in units:
        d = unit.data
        try:
            matter = _matter_ref(by_ref, d["matter"])
        except _UnitProblem as exc:
            fail(unit, exc)
            placed.append(None)
            continue
        built.append(
            LegacyActivity(
                matter=matter,
                kind=d["kind"],
                activity_date=date.fromisoformat(d["date"]),
                user_name=d["user"][:120],
                description=d["description"],
                quantity=Decimal(d["quantity"]),
                rate_cents=d["rate_cents"],
                amount_cents=d["amount_cents"],
                created_at=now,
            )
        )
        placed.append(len(built) - 1)
    activities = bulk.insert_objects(built)
    kept = [u for u, i in zip(units, placed, strict=True) if i is not None]
    audit.record_many(
        actor=actor,
        at=now,
        events=[
            audit.Pending("imports.activity_imported", obj=a, after=u.data)
            for a, u in zip(activities, kept, strict=True)
        ],
    )
    return [None if i is None else int(activities[i].pk) for i in placed]


def _bulk_invoices(units: list[Unit], actor: Any, now: datetime, fail: Fail) -> list[int | None]:
    """New legacy invoices: their numbers stay in the L- range, each once (the unique number
    and the check against the ones already imported), only while the cutover is open."""
    try:
        _history_open()
    except _UnitProblem as exc:
        for unit in units:
            fail(unit, exc)
        return [None] * len(units)
    by_ref = _matters_by_ref(u.data["matter"] for u in units)
    by_name = _clients_by_name(u.data["client"] for u in units)
    taken = set(
        LegacyInvoice.objects.filter(number__in=[u.data["number"] for u in units]).values_list(
            "number", flat=True
        )
    )
    built: list[tuple[Unit, LegacyInvoice]] = []
    placed: list[int | None] = []
    for unit in units:
        d = unit.data
        try:
            matter = _matter_ref(by_ref, d["matter"])
            client = _client_named(by_name, d["client"])
            if matter.client_id != client.pk:
                raise _UnitProblem(
                    UNKNOWN_MATTER,
                    f"matter: {d['matter']} belongs to another client than {d['client']!r}",
                    "matter",
                )
            if d["number"] in taken:
                raise _UnitProblem(
                    DUPLICATE, f"number: legacy invoice {d['number']} already imported", "number"
                )
        except _UnitProblem as exc:
            fail(unit, exc)
            placed.append(None)
            continue
        taken.add(d["number"])
        built.append(
            (
                unit,
                LegacyInvoice(
                    number=d["number"],
                    client=client,
                    matter=matter,
                    issue_date=date.fromisoformat(d["issue_date"]),
                    due_date=date.fromisoformat(d["due_date"]) if d["due_date"] else None,
                    total_cents=d["total_cents"],
                    balance_cents=d["balance_cents"],
                    created_at=now,
                ),
            )
        )
        placed.append(len(built) - 1)
    invoices = bulk.insert_objects([inv for _, inv in built])
    bulk.insert_objects(
        [
            LegacyInvoiceLine(invoice=inv, position=i, **line)
            for (unit, _), inv in zip(built, invoices, strict=True)
            for i, line in enumerate(unit.data["lines"])
        ]
    )
    audit.record_many(
        actor=actor,
        at=now,
        events=[
            audit.Pending("imports.invoice_imported", obj=inv, after=unit.data)
            for (unit, _), inv in zip(built, invoices, strict=True)
        ],
    )
    return [None if i is None else int(invoices[i].pk) for i in placed]


# A batch's new units of these kinds go in set-based; the others (and every changed unit
# updated with consent) record by record. Kinds are written in this order, so a matter finds a
# client of its own batch, and an invoice or activity a matter of it.
_BULK_WRITERS: dict[str, Callable[[list[Unit], Any, datetime, Fail], list[int | None]]] = {
    RecordKind.CLIENT: _bulk_clients,
    RecordKind.MATTER: _bulk_matters,
    RecordKind.ACTIVITY: _bulk_activities,
    RecordKind.INVOICE: _bulk_invoices,
    RecordKind.ADJUSTMENT: _bulk_history,
    RecordKind.PAYMENT: _bulk_history,
}
_KIND_ORDER = (
    RecordKind.CLIENT,
    RecordKind.MATTER,
    RecordKind.ACTIVITY,
    RecordKind.INVOICE,
    RecordKind.ADJUSTMENT,
    RecordKind.PAYMENT,
    RecordKind.TRUST,
    RecordKind.CREDIT,
)


def _run_units(
    units: list[Unit],
    *,
    source: str,
    job: ImportJob,
    consent: bool,
    actor: Any,
    now: datetime,
    report: Report,
    stop_on_problem: bool,
) -> None:
    """Write ``units`` inside the caller's transaction. A unit whose import key holds the same
    data is counted unchanged; changed data is shown and updated only with ``consent``; new
    units of a kind with a bulk writer are checked in Python and inserted set-based with their
    import records. ``stop_on_problem`` (the commit): the first problem raises and the caller
    rolls the batch back; otherwise (the dry run) each problem is reported and the rest goes
    on (the record-by-record writes then run in a savepoint each, so a refused one leaves
    nothing behind)."""

    def fail(unit: Unit, exc: Exception) -> None:
        if isinstance(exc, _UnitProblem):
            report.problems.append(Problem(unit.line, exc.rule, exc.message, exc.field))
        elif isinstance(exc, ApplicationError):
            report.problems.append(Problem(unit.line, REFUSED, str(exc), exc.field or ""))
        if stop_on_problem:
            raise exc

    existing: dict[tuple[str, str], ImportRecord] = {}
    for kind in {u.kind for u in units}:
        keys = [u.key for u in units if u.kind == kind]
        for row in ImportRecord.objects.filter(kind=kind, source=source, key__in=keys):
            existing[(row.kind, row.key)] = row
    for kind in _KIND_ORDER:
        fresh: list[Unit] = []
        for unit in (u for u in units if u.kind == kind):
            record = existing.get((unit.kind, unit.key))
            if record is None and kind in _BULK_WRITERS:
                fresh.append(unit)
                continue
            if record is not None:
                if record.data_hash == _data_hash(unit.data):
                    report.unchanged += 1
                    continue
                diff = {
                    k: [record.data.get(k), v]
                    for k, v in unit.data.items()
                    if record.data.get(k) != v
                }
                report.changes.append(Change(unit.line, unit.kind, unit.key, diff, consent))
                if not consent:
                    continue
            try:
                with transaction.atomic(savepoint=not stop_on_problem):
                    _write_unit(
                        unit,
                        source=source,
                        existing=record,
                        job=job,
                        actor=actor,
                        now=now,
                        report=report,
                    )
            except (_UnitProblem, ApplicationError) as exc:
                fail(unit, exc)
        if not fresh:
            continue
        ids = _BULK_WRITERS[kind](fresh, actor, now, fail)
        written = [(u, i) for u, i in zip(fresh, ids, strict=True) if i is not None]
        bulk.insert_objects(
            [
                ImportRecord(
                    kind=unit.kind,
                    source=source,
                    key=unit.key,
                    object_id=object_id,
                    data=unit.data,
                    data_hash=_data_hash(unit.data),
                    job=job,
                    created_at=now,
                    updated_at=now,
                )
                for unit, object_id in written
            ]
        )
        report.created += len(written)
