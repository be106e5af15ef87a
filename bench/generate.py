"""Deterministic synthetic firm: ``python -m bench.generate --matters N [--seed S]`` fills the
database DATABASE_URL names (migrated) using bulk inserts. Benches call ``generate_firm``.

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate")
    parser.add_argument("--matters", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prefix", default="SYN")
    parser.add_argument(
        "--invoices", type=int, default=0, help="also issued invoices with ledger postings"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseledger.settings")
    import django

    django.setup()
    firm = generate_firm(matters=args.matters, seed=args.seed, prefix=args.prefix)
    if args.invoices:
        from bench.receivables import generate_receivables

        generate_receivables(
            invoices=args.invoices, matter_ids=firm.matter_ids, matter_client=firm.matter_client
        )
    summary: dict[str, Any] = {
        "users": len(firm.user_ids),
        "clients": len(firm.client_ids),
        "matters": len(firm.matter_ids),
        "beneficiaries": len(firm.beneficiary_ids),
        "invoices": args.invoices,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
