"""Deterministic synthetic firm: ``python -m bench.generate --matters N [--seed S] [--invoices N
[--payments]] [--trust SHARE] [--work SHARE]`` fills the database DATABASE_URL names (migrated)
using bulk inserts. Benches call ``generate_firm`` (and, opting in,
``bench.receivables.generate_receivables``, ``bench.trust_load.generate_trust`` and
``generate_work``).

The same (matters, seed) always produces the same names, numbers and assignments.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

FIRST = ["Ana", "Wei", "Priya", "Omar", "Lena", "Kofi", "Mateo", "Yuki", "Sara", "Ivan", "Noor"]
LAST = ["Garcia", "Chen", "Patel", "Haddad", "Novak", "Mensah", "Rossi", "Tanaka", "Kim", "Ali"]
COMPANIES = ["Acme Robotics", "Bluefin Labs", "Cedar Health", "Delta Foods", "Evergreen Soft"]
# Case types (seeded by the matters migration) that fit each client kind: employers petition
# for a beneficiary (an employee); private clients file for themselves or may name one.
COMPANY_CASES = ["h1b_cap", "h1b_extension", "h1b_transfer", "perm", "i140"]
PERSON_CASES = ["consultation", "i485", "n400", "asylum_i589", "rfe_noid_response"]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class Firm:
    """Ids of what ``generate_firm`` created (lists in creation order)."""

    user_ids: list[int] = field(default_factory=list)
    client_ids: list[int] = field(default_factory=list)
    matter_ids: list[int] = field(default_factory=list)
    matter_client: dict[int, int] = field(default_factory=dict)
    beneficiary_ids: list[int] = field(default_factory=list)


# Stage advances of generated matters stop before this instant (the benches' "now" is later).
STAGES_UNTIL = datetime(2026, 10, 30, tzinfo=UTC)


def _stage_walk(rng: random.Random, template: list[Any], matter: Any) -> list[tuple[Any, datetime]]:
    """The stages ``matter`` reached, with when, as ``matter_create`` and
    ``matter_stage_advance`` would have recorded them: the first stage when it was opened, then
    one stage at a time up to a drawn stage (optional stages such as an RFE reached now and
    then, required ones never skipped). A stage that closes the matter is never drawn, so every
    generated matter stays open for work. Sets the matter's current stage (and ``updated_at``
    after an advance)."""
    open_stages = [s for s in template if not s.closes_matter]
    target = rng.randrange(len(open_stages))
    walk = [(open_stages[0], matter.created_at)]
    at = datetime.combine(matter.opened_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    for index, stage in enumerate(open_stages[1 : target + 1], start=1):
        if stage.optional and index != target and rng.random() >= 0.25:
            continue
        at = max(at + timedelta(days=rng.randrange(7, 45)), walk[-1][1] + timedelta(hours=1))
        if at >= STAGES_UNTIL:
            break
        walk.append((stage, at))
    matter.current_stage_id = walk[-1][0].pk
    if len(walk) > 1:
        matter.updated_at = walk[-1][1]
    return walk


def _stage_events(matter: Any, walk: list[tuple[Any, datetime]]) -> Iterator[Any]:
    """One StageEvent per stage reached, each from the stage before (none for the first)."""
    from caseledger.matters.models import StageEvent

    previous = None
    for stage, at in walk:
        yield StageEvent(matter_id=matter.pk, stage=stage, from_stage=previous, at=at)
        previous = stage


def generate_firm(*, matters: int, seed: int = 1, prefix: str = "SYN") -> Firm:
    """Bulk-insert staff, clients (about one per 1.5 matters) and ``matters`` matters.

    Matters keep the rules ``matters.services.matter_create`` enforces: a case type that fits
    the client (employment-based types only for companies, each with its own beneficiary
    employee; self-petitions only for persons, without a beneficiary). Each matter stands at a
    stage of its own case type's template, drawn per matter, with the StageEvent rows the
    matters services write on the way there (opened at the first stage, then one advance per
    stage); no stage that closes a matter, and no stage listener runs (no billing)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from caseledger.clients.models import Beneficiary, Client
    from caseledger.core.choices import Role
    from caseledger.core.models import User
    from caseledger.matters.models import CaseType, Matter, Stage, StageEvent

    rng = random.Random(seed)
    stage_rng = random.Random(seed * 7919 + 1)
    firm = Firm()
    unusable = make_password(None)
    with transaction.atomic():
        staff = [
            User(
                username=f"{prefix.lower()}-{role.lower()}-{i}",
                role=role,
                password=unusable,
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
            )
            for role, count in ((Role.PARTNER, 2), (Role.ATTORNEY, 4), (Role.PARALEGAL, 4))
            for i in range(count)
        ]
        User.objects.bulk_create(staff, batch_size=500)
        staff = list(User.objects.filter(username__startswith=f"{prefix.lower()}-").order_by("id"))
        firm.user_ids = [u.pk for u in staff]
        partners = [u for u in staff if u.role == Role.PARTNER]
        attorneys = [u for u in staff if u.role == Role.ATTORNEY]
        paralegals = [u for u in staff if u.role == Role.PARALEGAL]

        n_clients = max(1, (matters * 2) // 3)
        clients = []
        for i in range(n_clients):
            company = rng.random() < 0.35
            name = (
                f"{rng.choice(COMPANIES)} {i}"
                if company
                else f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
            )
            clients.append(
                Client(
                    name=f"{prefix} {name}",
                    kind="COMPANY" if company else "PERSON",
                    client_type="CORPORATE" if company else "PRIVATE",
                    email=f"client{i}@{prefix.lower()}.example",
                    responsible_partner=rng.choice(partners),
                    created_at=T0 + timedelta(hours=i),
                )
            )
        created = Client.objects.bulk_create(clients, batch_size=1000)
        firm.client_ids = [c.pk for c in created]
        is_company = {c.pk: c.kind == "COMPANY" for c in created}

        case_types = {ct.code: ct for ct in CaseType.objects.filter(is_active=True)}
        missing = sorted(set(COMPANY_CASES + PERSON_CASES) - set(case_types))
        if missing:
            raise RuntimeError(f"case types not seeded (run the migrations): {missing}")
        # Each case type's template in order; a matter's stage belongs to its own case type.
        templates: dict[int, list[Any]] = {}
        for stage in Stage.objects.order_by("case_type_id", "position", "id"):
            templates.setdefault(stage.case_type_id, []).append(stage)

        plan: list[tuple[int, Any]] = []
        beneficiaries = []
        for i in range(matters):
            client_id = (
                firm.client_ids[i % n_clients] if i < n_clients else rng.choice(firm.client_ids)
            )
            if is_company[client_id]:
                ct = case_types[rng.choice(COMPANY_CASES)]
                beneficiaries.append(
                    Beneficiary(
                        client_id=client_id,
                        name=f"{prefix} {rng.choice(FIRST)} {rng.choice(LAST)} {i}",
                        relationship="EMPLOYEE",
                        created_at=T0 + timedelta(minutes=i),
                    )
                )
            else:
                ct = case_types[rng.choice(PERSON_CASES)]
            plan.append((client_id, ct))
        made_beneficiaries = Beneficiary.objects.bulk_create(beneficiaries, batch_size=1000)
        firm.beneficiary_ids = [b.pk for b in made_beneficiaries]
        next_beneficiary = iter(made_beneficiaries)

        rows = []
        for i, (client_id, ct) in enumerate(plan):
            rows.append(
                Matter(
                    number=f"{prefix}-{i:06d}",
                    title=ct.name,
                    client_id=client_id,
                    beneficiary=next(next_beneficiary) if is_company[client_id] else None,
                    case_type=ct,
                    current_stage_id=templates[ct.pk][0].pk,
                    responsible_partner=rng.choice(partners),
                    attorney=rng.choice(attorneys),
                    paralegal=rng.choice(paralegals),
                    opened_date=date(2025, 1, 1) + timedelta(days=rng.randrange(365)),
                    created_at=T0 + timedelta(minutes=i),
                )
            )
        # The stages come from a stream of their own, so the names, parties and dates above
        # are the same draws as before matters were spread over their stages.
        walks = [
            _stage_walk(stage_rng, templates[ct.pk], row)
            for row, (_c, ct) in zip(rows, plan, strict=True)
        ]
        made = Matter.objects.bulk_create(rows, batch_size=1000)
        events = [
            event
            for matter, walk in zip(made, walks, strict=True)
            for event in _stage_events(matter, walk)
        ]
        StageEvent.objects.bulk_create(events, batch_size=2000)
        n_events = len(events)
        firm.matter_ids = [m.pk for m in made]
        firm.matter_client = {m.pk: m.client_id for m in made}
        # The bulk inserts bypass the services' audit events: one event records the load, so
        # the audit log of a generated firm is not empty (``manage.py verify`` refuses that).
        from caseledger.core import audit

        audit.record(
            actor=None,
            action="bench.firm_generated",
            at=T0,
            actor_label="bench.generate",
            after={"prefix": prefix, "seed": seed, "users": len(firm.user_ids),
                   "clients": len(firm.client_ids), "matters": len(firm.matter_ids),
                   "stage_events": n_events},
        )  # fmt: skip
    return firm


# Work recorded on generated matters (``generate_work``): what each role does, in UTBMS
# activity codes, and the tasks a matter team keeps.
WORK = {
    "PARTNER": [("A104", "Review of the petition strategy and evidence"),
                ("A106", "Call with the client on timing and options")],
    "ATTORNEY": [("A103", "Draft support letter for the petition"),
                 ("A104", "Review of the client's documents and prior filings"),
                 ("A106", "Email to the client on the evidence still needed"),
                 ("A102", "Research on the eligibility criteria")],
    "PARALEGAL": [("A103", "Prepare the forms and the exhibit list"),
                  ("A101", "Organise the filing package"),
                  ("A108", "Correspondence with USCIS on the receipt notice")],
}  # fmt: skip
TASKS = [
    "Collect the beneficiary's documents",
    "Send the engagement letter for signature",
    "Prepare the filing package",
    "Calendar the receipt notice",
    "Draft the support letter",
    "Check the translations of the civil documents",
]
DEFAULT_RATES = {"PARTNER": 57_500, "ATTORNEY": 42_500, "PARALEGAL": 18_500}  # cents per hour
WORK_AS_OF = date(2026, 11, 2)
WORK_NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)


@dataclass
class Work:
    """What ``generate_work`` created."""

    time_entry_ids: list[int] = field(default_factory=list)
    task_ids: list[int] = field(default_factory=list)
    unbilled_cents: int = 0


def generate_work(
    firm: Firm,
    *,
    share: float = 0.5,
    seed: int = 13,
    as_of: date = WORK_AS_OF,
    now: datetime = WORK_NOW,
) -> Work:
    """Opt-in: unbilled time entries (WIP) and tasks, open and done, for about ``share`` of the
    firm's matters, dated from each matter's opening to ``as_of``.

    Time entries are what ``time_entry_create`` records: the matter's partner, attorney or
    paralegal, minutes in the firm's increment (never more than 24 hours a timekeeper a day),
    a UTBMS activity code, the rate resolved as the service does (matter > client > the
    timekeeper's default; staff without a default rate get one by role through
    ``hourly_rate_set``) and the amount rounded once with the firm's rule; none is billed yet.
    Tasks are ``task_create``'s, for the matter's paralegal or attorney, due one to four weeks
    after they were set; those due before ``as_of`` are mostly done (``task_complete``). One
    audit event per row, as those services write (``audit.record_many``)."""
    from django.db import transaction

    from caseledger.billing.calc import time_amount_cents
    from caseledger.billing.models import HourlyRate, TimeEntry
    from caseledger.billing.selectors import billing_settings_get
    from caseledger.billing.services import hourly_rate_set
    from caseledger.billing.services.common import firm_rounding
    from caseledger.clients.models import Client
    from caseledger.core import audit
    from caseledger.core.models import User
    from caseledger.matters.choices import TaskStatus
    from caseledger.matters.models import Matter, Task

    rng = random.Random(seed)
    work = Work()
    with transaction.atomic():
        staff = {u.pk: u for u in User.objects.filter(pk__in=firm.user_ids)}
        has_default = set(
            HourlyRate.objects.filter(
                timekeeper_id__in=staff, client__isnull=True, matter__isnull=True
            ).values_list("timekeeper_id", flat=True)
        )
        for pk in sorted(set(staff) - has_default):
            user = staff[pk]
            hourly_rate_set(timekeeper=user, rate=DEFAULT_RATES[user.role], actor=None, now=now)
        rates = {
            (r.timekeeper_id, r.client_id, r.matter_id): r.rate_cents
            for r in HourlyRate.objects.filter(timekeeper_id__in=staff)
        }
        increment = billing_settings_get().time_increment_minutes
        rule = firm_rounding()
        matters = list(
            Matter.objects.filter(pk__in=firm.matter_ids)
            .order_by("id")
            .values("id", "client_id", "opened_date", "responsible_partner_id", "attorney_id",
                    "paralegal_id")
        )  # fmt: skip
        ledes = set(
            Client.objects.filter(pk__in=firm.client_ids, ledes_required=True).values_list(
                "id", flat=True
            )
        )
        day_minutes: dict[tuple[int, date], int] = {}
        entries, tasks = [], []
        for m in matters:
            if rng.random() >= share:
                continue
            span = max(0, (as_of - m["opened_date"]).days)
            team = [m["responsible_partner_id"], m["attorney_id"], m["paralegal_id"]]
            for _ in range(rng.randrange(1, 9)):
                who = rng.choices(team, weights=(1, 3, 4))[0]
                if who is None:
                    continue
                role = staff[who].role
                activity, narrative = rng.choice(WORK[role])
                day = m["opened_date"] + timedelta(days=rng.randrange(span + 1))
                minutes = increment * rng.randrange(1, max(2, 240 // increment))
                if day_minutes.get((who, day), 0) + minutes > 24 * 60:
                    continue
                day_minutes[(who, day)] = day_minutes.get((who, day), 0) + minutes
                rate = next(
                    rates[key]
                    for key in (
                        (who, None, m["id"]),
                        (who, m["client_id"], None),
                        (who, None, None),
                    )
                    if key in rates
                )
                entries.append(
                    TimeEntry(
                        timekeeper_id=who, matter_id=m["id"], work_date=day, minutes=minutes,
                        activity_code=activity, task_code="L120" if m["client_id"] in ledes else "",
                        narrative=narrative, billable=True, rate_cents=rate,
                        amount_cents=time_amount_cents(minutes=minutes, rate_cents=rate, rule=rule),
                        created_by_id=who,
                        created_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                        + timedelta(hours=18),
                    )
                )  # fmt: skip
            for _ in range(rng.randrange(0, 4)):
                who = rng.choice([m["paralegal_id"], m["attorney_id"]])
                set_on = m["opened_date"] + timedelta(days=rng.randrange(span + 1))
                due = set_on + timedelta(days=rng.randrange(7, 29))
                done = due < as_of and rng.random() < 0.8
                created = datetime.combine(set_on, datetime.min.time(), tzinfo=UTC) + timedelta(
                    hours=9
                )
                finished = min(created + timedelta(days=rng.randrange(1, 28)), now)
                tasks.append(
                    Task(
                        matter_id=m["id"], title=rng.choice(TASKS), due_date=due, assignee_id=who,
                        status=TaskStatus.DONE if done else TaskStatus.OPEN,
                        created_by_id=m["attorney_id"], created_at=created,
                        completed_at=finished if done else None,
                        completed_by_id=who if done else None,
                    )
                )  # fmt: skip
        made_entries = TimeEntry.objects.bulk_create(entries, batch_size=2000)
        made_tasks = Task.objects.bulk_create(tasks, batch_size=2000)
        events: list[audit.Pending] = []
        for e in made_entries:
            events.append(
                audit.Pending(
                    action="billing.time_recorded",
                    obj=e,
                    after={
                        "matter": e.matter_id,
                        "timekeeper": e.timekeeper_id,
                        "work_date": e.work_date,
                        "minutes": e.minutes,
                        "rate_cents": e.rate_cents,
                        "amount_cents": e.amount_cents,
                        "billable": True,
                    },
                )  # fmt: skip
            )
        for t in made_tasks:
            events.append(
                audit.Pending(
                    action="matters.task_created",
                    obj=t,
                    after={
                        "title": t.title,
                        "matter": t.matter_id,
                        "assignee": t.assignee_id,
                        "assignee_role": "",
                        "due_date": t.due_date,
                    },
                )  # fmt: skip
            )
            if t.status == TaskStatus.DONE:
                events.append(
                    audit.Pending(
                        action="matters.task_completed",
                        obj=t,
                        before={"status": TaskStatus.OPEN},
                        after={"status": TaskStatus.DONE},
                    )
                )
        audit.record_many(actor=None, at=now, events=events, actor_label="bench.generate")
    work.time_entry_ids = [e.pk for e in made_entries]
    work.task_ids = [t.pk for t in made_tasks]
    work.unbilled_cents = sum(e.amount_cents for e in made_entries)
    return work


def monthly_retainers(
    matter_ids: list[int],
    *,
    code: str,
    name: str,
    template_name: str,
    lines: list[dict[str, Any]],
    start: date,
    now: datetime,
) -> None:
    """A flat-fee retainer service (1,250.00, UTBMS L120/A106), its template with ``lines``, and
    a monthly schedule from ``start`` on each of ``matter_ids``: the recurring billing run's
    work (the month-end bench, the load test)."""
    from caseledger.billing import services
    from caseledger.billing.choices import Cadence, FeeType
    from caseledger.billing.models import RecurringSchedule

    service = services.service_create(
        code=code,
        name=name,
        fee_type=FeeType.FLAT,
        default_price="1,250.00",
        utbms_task_code="L120",
        utbms_activity_code="A106",
        actor=None,
        now=now,
    )
    template = services.template_create(
        service=service, name=template_name, lines=lines, actor=None, now=now
    )
    RecurringSchedule.objects.bulk_create(
        [
            RecurringSchedule(
                matter_id=m,
                template=template,
                cadence=Cadence.MONTHLY,
                start_date=start,
                created_at=now,
            )
            for m in matter_ids
        ],
        batch_size=2000,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate")
    parser.add_argument("--matters", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prefix", default="SYN")
    parser.add_argument(
        "--invoices", type=int, default=0, help="also issued invoices with ledger postings"
    )
    parser.add_argument(
        "--payments",
        action="store_true",
        help="with --invoices: record each receipt as a payment allocated to its invoice",
    )
    parser.add_argument(
        "--trust",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="also retainers in trust for this share of the matters (0-1), some disbursed and "
        "applied to their unpaid invoices",
    )
    parser.add_argument(
        "--work",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="also unbilled time entries and tasks for this share of the matters (0-1)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseledger.settings")
    import django

    django.setup()
    firm = generate_firm(matters=args.matters, seed=args.seed, prefix=args.prefix)
    if args.invoices:
        from bench.receivables import generate_receivables

        generate_receivables(
            invoices=args.invoices,
            matter_ids=firm.matter_ids,
            matter_client=firm.matter_client,
            payment_records=args.payments,
        )
    summary: dict[str, Any] = {
        "users": len(firm.user_ids),
        "clients": len(firm.client_ids),
        "matters": len(firm.matter_ids),
        "beneficiaries": len(firm.beneficiary_ids),
        "invoices": args.invoices,
    }
    if args.trust:
        from bench.trust_load import generate_trust

        trust = generate_trust(firm, share=args.trust)
        summary.update(
            trust_deposits=trust.deposits,
            trust_disbursements=trust.disbursements,
            trust_transfers=trust.transfers,
        )
    if args.work:
        work = generate_work(firm, share=args.work)
        summary.update(time_entries=len(work.time_entry_ids), tasks=len(work.task_ids))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
