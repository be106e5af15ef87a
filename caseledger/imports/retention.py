"""Retention, legal holds and the purge of a closed matter's personal data.

A closed matter may be purged once the longest retention of the kinds of record it has has run
from its close date (trust records: ``trust_years``; invoices and A/R: ``billing_years``; the
matter file and its personal data: ``matter_years``), and never while a legal hold on it or its
client is active. The purge anonymises (the rows stay, so every foreign key, ledger posting and
audit event still points at the same ids): the matter's title and notes, its deadlines' and
tasks' text, its documents (title and file name blanked, unshared, the stored file deleted once
the purge commits; size and SHA-256 stay), its beneficiary (name, email, A-number, passport, date
of birth, SSN/ITIN, online
account number and their lookup hashes), and, when every matter of the client is purged, the
client (name, email, phone, address, notes, the same identifiers) and its contacts. The name
left in place is a pseudonym (``Purged client C-<id>``). What the books keep is redacted, not
deleted: the matter's invoices (bill-to snapshot to the pseudonym, stored PDFs deleted: the
PDF is rendered again from the redacted invoice), the import records of what went, and the audit
events about it or quoting its personal strings (``[redacted]``, through ``core.audit.redact``,
so the chain still verifies). Amounts, numbers, dates, ids and the ledger stay; the purge
appends one audit event with counts, never the data itself.

The trust minimums below are each state's rule on how long trust account records must be kept;
the firm's trust retention may be longer, never shorter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from caseledger.core import audit
from caseledger.core.exceptions import ApplicationError
from caseledger.imports import locks
from caseledger.imports.models import LegalHold, PurgeRecord, RetentionSettings

# state -> (minimum years after the representation ends / the records' events, rule cited)
STATE_TRUST_MINIMUMS: dict[str, tuple[int, str]] = {
    "ABA": (5, "ABA Model Rule 1.15(a): five years after termination of the representation"),
    "AZ": (5, "Ariz. R. Sup. Ct. 42, ER 1.15(a): five years after termination"),
    "CA": (5, "Cal. Rules of Prof. Conduct 1.15(d)(3): five years after final distribution"),
    "FL": (6, "R. Regulating Fla. Bar 5-1.2(b): six years"),
    "IL": (7, "Ill. R. Prof. Conduct 1.15(a): seven years after termination"),
    "MA": (6, "Mass. R. Prof. C. 1.15(f)(1): six years after termination"),
    "NJ": (7, "N.J. Court Rule 1:21-6(c)(1): seven years"),
    "NY": (7, "N.Y. Rules of Prof. Conduct 1.15(d)(1) (22 NYCRR 1200.0): seven years"),
    "OH": (7, "Ohio Prof. Cond. R. 1.15(a): seven years after termination"),
    "PA": (5, "Pa. R.P.C. 1.15(c): five years after termination"),
    "TX": (5, "Tex. Disciplinary R. Prof. Conduct 1.14(a): five years after termination"),
}

STATE_UNKNOWN = "state: {state} is not in the table of trust minimums ({states})"
TRUST_TOO_SHORT = "trust_years: {state} requires at least {minimum} years ({rule}); got {years}"
YEARS_RANGE = "{field}: between 1 and 50 years (got {years})"
NOT_CLOSED = "matter: {matter} is not closed; only a closed matter can be purged"
TOO_EARLY = "matter: {matter} is kept until {until} ({reason}); purge refused on {today}"
HELD = "matter: a legal hold ({reason}) is active on {target}; purge refused"
PURGED = "matter: {matter} was already purged on {on}"
HOLD_TARGET = "matter: choose a client or a matter to hold"
HOLD_REASON = "reason: say why the records are held"
HOLD_RELEASED = "hold: already released on {on}"


class RetentionRefused(ApplicationError):
    """A purge or retention change that the rules refuse."""


def retention_settings() -> RetentionSettings:
    row = RetentionSettings.objects.order_by("id").first()
    return row or RetentionSettings(state="ABA")


@transaction.atomic
def retention_settings_save(
    *,
    state: str,
    trust_years: int,
    billing_years: int,
    matter_years: int,
    actor: Any,
    now: datetime,
) -> RetentionSettings:
    state = state.strip().upper()
    if state not in STATE_TRUST_MINIMUMS:
        raise RetentionRefused(
            STATE_UNKNOWN.format(state=state, states=", ".join(STATE_TRUST_MINIMUMS)),
            field="state",
        )
    for name, years in (
        ("trust_years", trust_years),
        ("billing_years", billing_years),
        ("matter_years", matter_years),
    ):
        if not 1 <= years <= 50:
            raise RetentionRefused(YEARS_RANGE.format(field=name, years=years), field=name)
    minimum, rule = STATE_TRUST_MINIMUMS[state]
    if trust_years < minimum:
        raise RetentionRefused(
            TRUST_TOO_SHORT.format(state=state, minimum=minimum, rule=rule, years=trust_years),
            field="trust_years",
        )
    row = locks.retention_settings_lock()
    before = None
    if row is None:
        row = RetentionSettings()
    else:
        before = {
            "state": row.state,
            "trust_years": row.trust_years,
            "billing_years": row.billing_years,
            "matter_years": row.matter_years,
        }
    row.state, row.trust_years = state, trust_years
    row.billing_years, row.matter_years = billing_years, matter_years
    row.updated_at = now
    row.save()
    audit.record(
        actor=actor,
        action="imports.retention_changed",
        at=now,
        obj=row,
        before=before,
        after={
            "state": state,
            "trust_years": trust_years,
            "billing_years": billing_years,
            "matter_years": matter_years,
        },
    )
    return row


@transaction.atomic
def legal_hold_place(
    *, client: Any = None, matter: Any = None, reason: str, actor: Any, now: datetime
) -> LegalHold:
    if client is None and matter is None:
        raise RetentionRefused(HOLD_TARGET, field="matter")
    if not reason.strip():
        raise RetentionRefused(HOLD_REASON, field="reason")
    hold = LegalHold.objects.create(
        client=client, matter=matter, reason=reason.strip()[:300], placed_by=actor, placed_at=now
    )
    audit.record(
        actor=actor,
        action="imports.legal_hold_placed",
        at=now,
        obj=hold,
        after={"client": getattr(client, "pk", None), "matter": getattr(matter, "pk", None)},
    )
    return hold


@transaction.atomic
def legal_hold_release(*, hold: LegalHold, actor: Any, now: datetime) -> LegalHold:
    hold = locks.legal_hold_lock(hold_id=hold.pk)
    if hold.released_at is not None:
        raise RetentionRefused(
            HOLD_RELEASED.format(on=hold.released_at.date().isoformat()), field="hold"
        )
    hold.released_at, hold.released_by = now, actor
    hold.save(update_fields=["released_at", "released_by"])
    audit.record(actor=actor, action="imports.legal_hold_released", at=now, obj=hold)
    return hold


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # February 29 into a common year
        return day.replace(year=day.year + years, day=28)


def retention_until(matter: Any) -> tuple[date | None, str]:
    """The first day ``matter`` may be purged and which kind of record sets it (None: open)."""
    from caseledger.billing.models import Invoice
    from caseledger.ledger import accounts
    from caseledger.ledger.models import Posting

    if matter.closed_date is None:
        return None, "open"
    policy = retention_settings()
    kinds = [(policy.matter_years, "matter file")]
    if Posting.objects.filter(
        matter=matter, account__code=accounts.CLIENT_TRUST_LIABILITY
    ).exists():
        kinds.append((policy.trust_years, f"trust records, {policy.state}"))
    if (
        Invoice.objects.filter(matter=matter).exists()
        or Posting.objects.filter(
            matter=matter, account__code=accounts.ACCOUNTS_RECEIVABLE
        ).exists()
    ):
        kinds.append((policy.billing_years, "billing records"))
    years, reason = max(kinds, key=lambda k: k[0])
    return _add_years(matter.closed_date, years), f"{reason}: {years} years after closing"


def active_holds(matter: Any) -> list[LegalHold]:
    return list(
        LegalHold.objects.filter(released_at__isnull=True).filter(
            Q(matter=matter) | Q(client_id=matter.client_id)
        )
    )


PERSON_FIELDS = (
    "a_number",
    "a_number_hash",
    "passport_number",
    "passport_country",
    "ssn_itin",
    "country_of_citizenship",
    "identity_hash",
    "uscis_online_account_number",
)
CLIENT_FIELDS = (
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "notes",
)


@dataclass
class PurgePlan:
    matter: Any
    until: date
    reason: str
    items: list[tuple[str, int, str]] = field(default_factory=list)  # (what, id, fields)
    client_too: bool = False

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for what, _, _ in self.items:
            out[what] = out.get(what, 0) + 1
        return out


def purge_plan(*, matter: Any, today: date) -> PurgePlan:
    """What a purge of ``matter`` would anonymise (the dry run); refused (RetentionRefused)
    when it may not be purged today."""
    from caseledger.clients.models import Beneficiary, Contact
    from caseledger.matters.models import Deadline, Matter, MatterDocument, Task

    purged = PurgeRecord.objects.filter(matter=matter).first()
    if purged is not None:
        raise RetentionRefused(
            PURGED.format(matter=matter.number, on=purged.purged_at.date()), field="matter"
        )
    if not matter.is_closed or matter.closed_date is None:
        raise RetentionRefused(NOT_CLOSED.format(matter=matter.number), field="matter")
    holds = active_holds(matter)
    if holds:
        target = f"matter {matter.number}" if holds[0].matter_id else f"client {matter.client}"
        raise RetentionRefused(HELD.format(reason=holds[0].reason, target=target), field="matter")
    until, reason = retention_until(matter)
    assert until is not None
    if today < until:
        raise RetentionRefused(
            TOO_EARLY.format(matter=matter.number, until=until, reason=reason, today=today),
            field="matter",
        )
    plan = PurgePlan(matter=matter, until=until, reason=reason)
    plan.items.append(("matter", matter.pk, "title, notes, hold reason"))
    for d in Deadline.objects.filter(matter=matter).only("id"):
        plan.items.append(("deadline", d.pk, "description"))
    for t in Task.objects.filter(matter=matter).only("id"):
        plan.items.append(("task", t.pk, "title, description"))
    for doc in MatterDocument.objects.filter(matter=matter).only("id"):
        plan.items.append(("document", doc.pk, "title, file name, stored file"))
    if matter.beneficiary_id:
        others = Matter.objects.filter(beneficiary_id=matter.beneficiary_id).exclude(pk=matter.pk)
        unpurged = others.exclude(pk__in=PurgeRecord.objects.values("matter_id"))
        if not unpurged.exists():
            plan.items.append(
                ("beneficiary", matter.beneficiary_id, "name, email, A-number, passport, DOB, SSN")
            )
    from caseledger.billing.models import Invoice

    for inv in Invoice.objects.filter(matter=matter).only("id"):
        plan.items.append(("invoice", inv.pk, "bill-to name, address, email; stored PDF"))
    siblings = (
        Matter.objects.filter(client_id=matter.client_id)
        .exclude(pk=matter.pk)
        .exclude(pk__in=PurgeRecord.objects.values("matter_id"))
    )
    if not siblings.exists():
        plan.client_too = True
        plan.items.append(
            ("client", matter.client_id, "name, email, phone, address, notes, A-number, passport")
        )
        for c in Contact.objects.filter(client_id=matter.client_id).only("id"):
            plan.items.append(("contact", c.pk, "name, email, phone"))
        for b in Beneficiary.objects.filter(client_id=matter.client_id).only("id"):
            if not any(i[0] == "beneficiary" and i[1] == b.pk for i in plan.items):
                plan.items.append(("beneficiary", b.pk, "name, email, A-number, passport, DOB"))
    return plan


def _purge_document(document: Any) -> None:
    """Blank a document's title and file name, withdraw it from the portal and delete its
    stored file once the purge commits (a purge rolled back keeps the file)."""
    stored = document.file.name
    type(document).objects.filter(pk=document.pk).update(
        title="Purged document",
        filename=f"document-{document.pk}",
        file="",
        shared_at=None,
        shared_by=None,
    )
    if stored:
        storage = document.file.storage
        transaction.on_commit(lambda: storage.delete(stored))


def _blank_person(model: Any, pk: int, name: str, extra: dict[str, Any]) -> None:
    """Overwrite one person's fields through the model (the encrypted fields encrypt '')."""
    row = model.objects.get(pk=pk)
    row.name = name
    for f in PERSON_FIELDS:
        setattr(row, f, "")
    row.date_of_birth = None
    for k, v in extra.items():
        setattr(row, k, v)
    row.save()


# Keys whose string values in an audit payload or an import record are personal data.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "city",
        "region",
        "postal_code",
        "notes",
        "title",
        "filename",
        "description",
        "bill_to_name",
        "bill_to_address",
        "bill_to_email",
        "contact",
        "client",
        "payer",
        "a_number",
        "passport_number",
        "ssn_itin",
        "date_of_birth",
        "uscis_online_account_number",
    }
)
# Shorter texts are not searched for (they would match inside unrelated words and codes).
MIN_SEARCHED = 4


def _scrubbed(value: Any, texts: list[str], by_key: bool) -> Any:
    """``value`` (JSON) with every occurrence of ``texts`` in its strings replaced by the
    redaction marker, and (``by_key``) every non-empty string under a ``PERSONAL_KEYS`` key."""
    if isinstance(value, str):
        for text in texts:
            if text in value:
                value = value.replace(text, audit.REDACTED)
        return value
    if isinstance(value, list):
        return [_scrubbed(v, texts, by_key) for v in value]
    if isinstance(value, dict):
        return {
            k: audit.REDACTED
            if by_key and k in PERSONAL_KEYS and isinstance(v, str) and v
            else _scrubbed(v, texts, by_key)
            for k, v in value.items()
        }
    return value


def _personal_texts(plan: PurgePlan) -> list[str]:
    """The personal strings the purge removes, read before it does (longest first). Not the
    matter's title (often generic, shared by other clients' matters): it is redacted in the
    events about the matter only."""
    from caseledger.clients.models import Beneficiary, Client, Contact

    texts: list[str] = []
    for what, pk, _ in plan.items:
        if what == "client":
            c = Client.objects.get(pk=pk)
            texts += [c.name, c.email, c.phone, c.address_line1, c.address_line2]
            texts += [c.a_number, c.passport_number, c.ssn_itin]
        elif what == "beneficiary":
            b = Beneficiary.objects.get(pk=pk)
            texts += [b.name, b.email, b.a_number, b.passport_number, b.ssn_itin]
        elif what == "contact":
            ct = Contact.objects.get(pk=pk)
            texts += [ct.name, ct.email, ct.phone]
    wanted = {t.strip() for t in texts if t and len(t.strip()) >= MIN_SEARCHED}
    return sorted(wanted, key=len, reverse=True)


def _redact_history(
    *, plan: PurgePlan, texts: list[str], actor: Any, now: datetime
) -> dict[str, int]:
    """Personal data in the records kept for accounting: the matter's invoices (bill-to
    snapshot, stored PDFs: billing.invoices_redact_bill_to), the import records of what is
    purged, and the audit events about it or quoting it (core.audit.redact: the chain stays
    verifiable). Amounts, numbers, dates and ids stay."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    from caseledger.billing.services import invoices_redact_bill_to
    from caseledger.core.models import AuditEvent
    from caseledger.imports.choices import RecordKind
    from caseledger.imports.models import (
        ImportRecord,
        LegacyHistoryAdjustment,
        LegacyHistoryPayment,
        LegacyInvoice,
        OpeningBalance,
    )

    matter = plan.matter
    counts = invoices_redact_bill_to(
        matter=matter, pseudonym=f"C-{matter.client_id}", actor=actor, now=now
    )
    legacy = [
        str(pk) for pk in LegacyInvoice.objects.filter(matter=matter).values_list("pk", flat=True)
    ]
    targets = Q(object_type="matters.matter", object_id=str(matter.pk))
    targets |= Q(object_type="imports.legacyinvoice", object_id__in=legacy)
    targets |= Q(
        object_type="billing.invoice",
        object_id__in=[str(pk) for what, pk, _ in plan.items if what == "invoice"],
    )
    targets |= Q(
        object_type="matters.matterdocument",
        object_id__in=[str(pk) for what, pk, _ in plan.items if what == "document"],
    )
    records = Q(kind=RecordKind.MATTER, object_id=matter.pk)
    records |= Q(kind=RecordKind.INVOICE, object_id__in=[int(pk) for pk in legacy])
    # A vendor's trust row names the client; a history payment may describe the client, and
    # an adjustment's reason may too.
    records |= Q(
        kind=RecordKind.TRUST,
        object_id__in=OpeningBalance.objects.filter(matter=matter).values_list("pk", flat=True),
    )
    records |= Q(
        kind=RecordKind.PAYMENT,
        object_id__in=LegacyHistoryPayment.objects.filter(invoice__matter=matter).values_list(
            "pk", flat=True
        ),
    )
    records |= Q(
        kind=RecordKind.ADJUSTMENT,
        object_id__in=LegacyHistoryAdjustment.objects.filter(invoice__matter=matter).values_list(
            "pk", flat=True
        ),
    )
    for what, pk, _ in plan.items:
        if what in {"client", "beneficiary", "contact"}:
            targets |= Q(object_type=f"clients.{what}", object_id=str(pk))
        if what == "client":
            records |= Q(kind=RecordKind.CLIENT, object_id=pk)
    targeted = set(AuditEvent.objects.filter(targets).values_list("pk", flat=True))
    quoting: set[int] = set()
    if texts:
        quotes = Q()
        for text in texts:
            # As stored: JSON text may escape non-ASCII characters (SQLite), or not.
            for form in {text, json.dumps(text)[1:-1]}:
                quotes |= Q(before_text__contains=form) | Q(after_text__contains=form)
            quotes |= Q(object_repr__contains=text)
        quoting = set(
            AuditEvent.objects.annotate(
                before_text=Cast("before", TextField()), after_text=Cast("after", TextField())
            )
            .filter(quotes)
            .exclude(action=audit.REDACTION_ACTION)
            .values_list("pk", flat=True)
        )
    events = list(AuditEvent.objects.filter(pk__in=targeted | quoting).order_by("id"))

    def scrub(event: AuditEvent, value: Any) -> Any:
        if event.pk in targeted and isinstance(value, str):  # the object_repr of a target
            return audit.REDACTED if value else value
        return _scrubbed(value, texts, by_key=event.pk in targeted)

    marker = audit.redact(
        events=events,
        scrub=scrub,
        actor=actor,
        at=now,
        reason=f"retention purge of matter #{matter.pk}",
    )
    counts["core.auditevent"] = len((marker.after or {})["events"]) if marker else 0
    imported = 0
    for record in ImportRecord.objects.filter(records):
        # The hash of what was read stays: a rerun of the old file changes nothing.
        record.data = _scrubbed(record.data, texts, by_key=True)
        record.save(update_fields=["data"])
        imported += 1
    counts["imports.importrecord"] = imported
    return counts


@transaction.atomic
def matter_purge(*, matter: Any, actor: Any, now: datetime) -> PurgeRecord:
    """Anonymise what ``purge_plan`` lists, record the purge and append its audit event."""
    from caseledger.clients.models import Beneficiary, Client, Contact
    from caseledger.core import clock
    from caseledger.matters.locks import matter_lock
    from caseledger.matters.models import Deadline, Matter, MatterDocument, Task

    matter = matter_lock(matter_id=matter.pk)
    plan = purge_plan(matter=matter, today=clock.firm_date(now))
    pseudonym = f"C-{matter.client_id}"
    texts = _personal_texts(plan)
    for what, pk, _ in plan.items:
        if what == "matter":
            Matter.objects.filter(pk=pk).update(
                title=f"Purged matter {matter.number}", notes="", hold_reason=""
            )
        elif what == "deadline":
            Deadline.objects.filter(pk=pk).update(description="")
        elif what == "task":
            Task.objects.filter(pk=pk).update(title="(purged)", description="")
        elif what == "document":
            _purge_document(MatterDocument.objects.get(pk=pk))
        elif what == "beneficiary":
            _blank_person(Beneficiary, pk, f"Purged beneficiary B-{pk}", {"email": ""})
        elif what == "client":
            _blank_person(
                Client,
                pk,
                f"Purged client {pseudonym}",
                dict.fromkeys(CLIENT_FIELDS, ""),
            )
        elif what == "contact":
            Contact.objects.filter(pk=pk).update(name=f"Purged contact {pk}", email="", phone="")
    removed = {k: v for k, v in plan.counts().items() if k != "invoice"}
    removed.update(_redact_history(plan=plan, texts=texts, actor=actor, now=now))
    record = PurgeRecord.objects.create(
        matter=matter,
        pseudonym=pseudonym,
        retention_until=plan.until,
        removed=removed,
        purged_by=actor,
        purged_at=now,
    )
    audit.record(
        actor=actor,
        action="imports.matter_purged",
        at=now,
        obj=record,
        after={
            "matter": matter.pk,
            "pseudonym": pseudonym,
            "retention_until": plan.until,
            "removed": removed,
        },
    )
    return record
