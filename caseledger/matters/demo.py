"""Demo matters: about 150 matters over every case type and stage, with receipt numbers,
deadlines (some overdue), reminder and manual tasks and a few holds. Stages are reached through
``matter_stage_advance`` (so stage events and listeners run as in production). Deterministic
(ctx.rng) and idempotent: nothing happens when the demo clients already have matters."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from caseledger.clients.choices import ClientKind, Relationship
from caseledger.clients.demo import COMPANIES
from caseledger.clients.models import Client
from caseledger.core.demo_context import DemoContext
from caseledger.matters import services
from caseledger.matters.choices import DeadlineKind, MatterStatus
from caseledger.matters.models import CaseType, Matter, ReceiptNumber

EMPLOYMENT_PLANS = [
    ["h1b_cap", "h1b_extension"],
    ["h1b_extension", "i140"],
    ["h1b_transfer", "perm"],
    ["perm", "i140"],
    ["h1b_extension", "rfe_noid_response"],
    ["perm", "i140", "i485"],
]
FAMILY_PLANS: dict[str, list[str]] = {
    Relationship.SPOUSE: ["i130", "i485"],
    Relationship.PARENT: ["i130"],
    Relationship.FIANCE: ["k1"],
}
PERSON_PLANS = [
    ["n400"],
    ["asylum_i589"],
    ["removal_defense", "consultation"],
    ["n400", "consultation"],
    ["asylum_i589", "rfe_noid_response"],
    ["removal_defense", "appeal_motion"],
]
RECEIPT_PREFIX = {
    "h1b_cap": ["EAC", "WAC"],
    "h1b_extension": ["EAC", "WAC", "IOE"],
    "h1b_transfer": ["EAC", "WAC"],
    "i140": ["LIN", "SRC"],
    "i130": ["IOE", "MSC", "NBC"],
    "i485": ["MSC", "NBC", "IOE"],
    "k1": ["WAC", "EAC"],
    "n400": ["IOE", "NBC"],
    "asylum_i589": ["YSC", "LIN"],
    "rfe_noid_response": ["SRC", "EAC"],
}
HOLD_REASONS = [
    "Invoice 90+ days overdue; collections hold",
    "Retainer not replenished below minimum",
    "Client asked to pause the case",
]
MANUAL_TASKS = [
    ("Request last three pay stubs from the beneficiary", "paralegal"),
    ("Review wage level on the LCA", "attorney"),
    ("Send signed G-28 to the client", "paralegal"),
    ("Prepare evidence index for the filing", "paralegal"),
    ("Call client about biometrics appointment", "paralegal"),
    ("Review draft support letter", "attorney"),
]


def _plans(ctx: DemoContext) -> list[tuple[Client, object, str]]:
    plans: list[tuple[Client, object, str]] = []
    company_names = [c[0] for c in COMPANIES]
    companies = Client.objects.filter(name__in=company_names).order_by("id")
    for index, company in enumerate(companies):
        for offset, beneficiary in enumerate(company.beneficiaries.order_by("id")):
            for code in EMPLOYMENT_PLANS[(index + offset) % len(EMPLOYMENT_PLANS)]:
                plans.append((company, beneficiary, code))
    people = Client.objects.filter(kind=ClientKind.PERSON).order_by("id")
    for index, person in enumerate(people):
        relatives = list(person.beneficiaries.order_by("id"))
        if relatives:
            for code in FAMILY_PLANS.get(relatives[0].relationship, ["i130"]):
                plans.append((person, relatives[0], code))
        if person.a_number:
            for code in PERSON_PLANS[index % len(PERSON_PLANS)]:
                plans.append((person, None, code))
        else:
            plans.append((person, None, "consultation"))
    return plans


def _receipt(ctx: DemoContext, code: str, year: int) -> str:
    prefix = ctx.rng.choice(RECEIPT_PREFIX.get(code, ["IOE"]))
    while True:
        number = f"{prefix}{year % 100:02d}{ctx.rng.randint(90_000_000, 99_999_999)}"
        if not ReceiptNumber.objects.filter(number=number).exists():
            return number


def seed(ctx: DemoContext) -> None:
    if Matter.objects.filter(client__name=COMPANIES[0][0]).exists():
        return
    rng = ctx.rng
    users = ctx.users
    attorneys = [users["attorney"], users["attorney2"], users["partner"]]
    paralegals = [users["paralegal"], users["paralegal2"]]
    case_types = {ct.code: ct for ct in CaseType.objects.all()}
    tz = timezone.get_current_timezone()
    held = 0
    for index, (client, beneficiary, code) in enumerate(_plans(ctx)):
        case_type = case_types[code]
        stages = list(case_type.stages.order_by("position", "id"))
        opened = ctx.today - timedelta(days=rng.randint(5, 720))
        opened_at = datetime.combine(opened, time(10, rng.randint(0, 59)), tz)
        attorney = attorneys[index % 3]
        paralegal = paralegals[(index // 3) % 2]
        matter = services.matter_create(
            client=client,
            case_type=case_type,
            beneficiary=beneficiary,  # type: ignore[arg-type]
            actor=paralegal,
            now=opened_at,
            opened_date=opened,
            attorney=attorney,
            paralegal=paralegal,
            priority_date=opened if code in {"perm", "i140", "i130"} else None,
        )
        # How far along: older matters further; about one in eight closed.
        span = (ctx.today - opened).days
        if span > 400 and rng.random() < 0.35:
            target = len(stages) - 1
        else:
            target = min(len(stages) - 2, int(len(stages) * min(span / 400, 1) * rng.random()) + 1)
        steps = [s for s in stages[1 : target + 1] if not s.optional or rng.random() < 0.3]
        if steps and stages[target] not in steps:
            steps.append(stages[target])
        at = opened_at
        gap = max(1, span // (len(steps) + 1)) if steps else 1
        for stage in steps:
            at = min(at + timedelta(days=rng.randint(1, gap), hours=rng.randint(0, 6)), ctx.now)
            services.matter_stage_advance(matter=matter, stage=stage, actor=paralegal, now=at)
            if stage.code == "receipt_received" or (
                stage.code in {"filed", "petition_filed"} and rng.random() < 0.5
            ):
                if not matter.receipts.exists():
                    services.receipt_add(
                        matter=matter,
                        number=_receipt(ctx, code, at.year),
                        form=case_type.form.split(" ")[0],
                        received_date=at.date(),
                        actor=paralegal,
                        now=at,
                    )
        matter.refresh_from_db()
        if matter.status == MatterStatus.CLOSED:
            continue
        stage_code = matter.current_stage.code if matter.current_stage else ""
        deadline = None
        if stage_code == "rfe":
            deadline = (DeadlineKind.RFE_RESPONSE, rng.randint(-4, 75), "Respond to RFE")
        elif code in {"h1b_extension", "h1b_transfer"}:
            deadline = (DeadlineKind.STATUS_EXPIRY, rng.randint(20, 240), "Current H-1B expires")
        elif code == "removal_defense":
            deadline = (DeadlineKind.HEARING, rng.randint(-2, 120), "Immigration court hearing")
        elif code in {"h1b_cap", "perm"} and matter.current_stage.position <= 3:  # type: ignore[union-attr]
            deadline = (DeadlineKind.FILING_WINDOW, rng.randint(3, 80), "Filing window closes")
        elif code == "n400" and stage_code in {"biometrics", "interview"}:
            deadline = (DeadlineKind.HEARING, rng.randint(5, 60), "Naturalization interview")
        if deadline is not None:
            kind, days, description = deadline
            services.deadline_create(
                matter=matter,
                kind=kind,
                due_date=ctx.today + timedelta(days=days),
                description=description,
                actor=paralegal,
                now=ctx.now,
            )
        if index % 9 == 4:
            title, who = MANUAL_TASKS[(index // 9) % len(MANUAL_TASKS)]
            services.task_create(
                title=title,
                matter=matter,
                assignee=paralegal if who == "paralegal" else attorney,
                due_date=ctx.today + timedelta(days=rng.randint(-3, 21)),
                actor=attorney,
                now=ctx.now,
            )
        if index % 17 == 0:
            services.task_create(
                title="Confirm the retainer deposit has cleared",
                matter=matter,
                assignee_role="BILLING",
                due_date=ctx.today + timedelta(days=rng.randint(1, 10)),
                actor=paralegal,
                now=ctx.now,
            )
        if held < 4 and index % 23 == 7:
            services.matter_hold_set(
                matter=matter, actor=None, reason=HOLD_REASONS[held % 3], now=ctx.now
            )
            held += 1
