"""The Django side of `make loadtest` (bench/loadtest.py runs it in the served stack's
environment, so it reads and writes the same database):

    python -m bench.loadtest_prep data --matters N --invoices N --schedules N --steps K --out F
    python -m bench.loadtest_prep queries --path /a --path /b

``data`` generates the firm once (``bench.generate``, ``bench.receivables`` with payment
records, ``bench.trust_load`` for 30% of its matters and ``generate_work`` for half: prefix
``LT``, next to the demo firm; a database that already holds it is reused), gives a share of
its matters a monthly retainer schedule (the month-end run's work), and writes the targets
file the locust users read: API tokens for the writers, open invoices to pay, matters with
their next stage, the client portal's session user, and one month-end date per user-count
step (months not yet billed, so every step's run drafts its invoices). ``queries`` prints the
statement count of each path, asked as the demo partner in-process (for the slowest routes of
the report).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

PREFIX = "LT"
TOKENS = 256  # one per writer user at most (the API's limit is per token)
NOW_SERVICE = "LT-RETAINER"


def _firm(matters: int, invoices: int) -> list[int]:
    """The LT firm's matter ids, generating it unless the database already holds it."""
    from bench.generate import generate_firm, generate_work
    from bench.receivables import generate_receivables
    from bench.trust_load import generate_trust
    from caseledger.matters.models import Matter

    have = list(
        Matter.objects.filter(number__startswith=f"{PREFIX}-")
        .order_by("id")
        .values_list("id", flat=True)
    )
    if have:
        if len(have) != matters:
            raise SystemExit(
                f"loadtest: the database holds {len(have)} generated matters, not {matters}: "
                "use another var dir or database"
            )
        return have
    firm = generate_firm(matters=matters, prefix=PREFIX)
    if invoices:
        generate_receivables(
            invoices=invoices,
            matter_ids=firm.matter_ids,
            matter_client=firm.matter_client,
            payment_records=True,
        )
    # What a firm's books hold beside its receivables: retainers in trust (some disbursed and
    # applied to invoices), unbilled time and tasks.
    generate_trust(firm, share=0.3)
    generate_work(firm, share=0.5)
    return firm.matter_ids


def _schedules(matter_ids: list[int], count: int) -> None:
    """A monthly compliance retainer on the first ``count`` generated matters (once)."""
    from django.db import transaction

    from bench.generate import monthly_retainers
    from caseledger.billing.models import Service
    from caseledger.core import clock

    if not count or Service.objects.filter(code=NOW_SERVICE).exists():
        return
    with transaction.atomic():
        monthly_retainers(
            matter_ids[:count],
            code=NOW_SERVICE,
            name="Compliance retainer (load test)",
            template_name="Monthly compliance retainer",
            lines=[{"description": "Immigration compliance retainer", "amount": None}],
            start=date(2000, 1, 1),
            now=clock.now(),
        )


def _month_ends(steps: int) -> list[str]:
    """``steps`` month-end dates after the last month the load-test schedules were billed for
    (from January 2000), so each step's run has a month to draft."""
    import calendar

    from django.db.models import Max

    from caseledger.billing.models import ScheduleRun

    last = ScheduleRun.objects.filter(schedule__template__service__code=NOW_SERVICE).aggregate(
        m=Max("period_start")
    )["m"]
    year, month = (last.year, last.month) if last else (1999, 12)
    out = []
    for _ in range(steps):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append(date(year, month, calendar.monthrange(year, month)[1]).isoformat())
    return out


def _tokens(username: str, count: int) -> list[str]:
    from caseledger.core import clock
    from caseledger.core.models import User
    from caseledger.core.services import api_token_create

    user = User.objects.get(username=username)
    return [
        api_token_create(user=user, now=clock.now(), name=f"load test {i}")[1] for i in range(count)
    ]


def _pay_targets(limit: int) -> list[dict[str, int]]:
    """Open generated invoices (the oldest first) with at least 100.00 due."""
    from django.db.models import F

    from caseledger.payments.models import InvoiceSettlement

    rows = (
        InvoiceSettlement.objects.filter(invoice__number__startswith="B")
        .annotate(due=F("total_cents") - F("paid_cents") - F("credited_cents"))
        .filter(due__gte=10_000)
        .order_by("invoice_id")
        .values("invoice_id", "invoice__client_id")[:limit]
    )
    return [{"invoice_id": r["invoice_id"], "client_id": r["invoice__client_id"]} for r in rows]


def _advance_targets(matter_ids: list[int], limit: int) -> list[dict[str, Any]]:
    """Generated matters with the code of their case type's next stage."""
    from caseledger.matters.models import Matter, Stage

    stages: dict[int, list[tuple[int, int, str]]] = {}
    for s in Stage.objects.order_by("case_type_id", "position", "id"):
        stages.setdefault(s.case_type_id, []).append((s.pk, s.position, s.code))
    out = []
    rows = Matter.objects.filter(pk__in=matter_ids[-limit * 2 :], status="OPEN").values(
        "id", "case_type_id", "current_stage_id"
    )
    for row in rows:
        order = stages.get(row["case_type_id"], [])
        ids = [pk for pk, _, _ in order]
        if row["current_stage_id"] in ids:
            at = ids.index(row["current_stage_id"])
            if at + 1 < len(order):
                out.append({"matter_id": row["id"], "stage": order[at + 1][2]})
        if len(out) >= limit:
            break
    return out


def data(args: argparse.Namespace) -> None:
    from bench.db import settle
    from caseledger.collections.services.aging_facts import aging_buckets_roll
    from caseledger.core import clock

    matter_ids = _firm(args.matters, args.invoices) if args.matters else []
    _schedules(matter_ids, args.schedules)
    settle()
    # A served firm's buckets follow its today (the consumer's minute job); the run starts there.
    aging_buckets_roll(clock.firm_today())
    targets: dict[str, Any] = {
        "tokens": _tokens("partner", TOKENS),
        "pay": _pay_targets(20_000),
        "advance": _advance_targets(matter_ids, 5_000),
        "matters": matter_ids[:: max(1, len(matter_ids) // 2_000)][:2_000],
        "month_ends": _month_ends(args.steps) if args.schedules else [],
        "today": clock.firm_today().isoformat(),
    }
    Path(args.out).write_text(json.dumps(targets))
    print(
        json.dumps(
            {
                "matters": len(matter_ids),
                "pay_targets": len(targets["pay"]),
                "advance_targets": len(targets["advance"]),
                "month_ends": targets["month_ends"],
            }
        )
    )


def queries(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.pages import signed_in_client
    from caseledger.core.models import User

    client = signed_in_client(User.objects.get(username="partner"))
    out = {}
    for path in args.path:
        client.get(path)
        with CaptureQueriesContext(connection) as ctx:
            status = client.get(path).status_code
        out[path] = len(ctx.captured_queries) if status == 200 else None
    print(json.dumps(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest_prep")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("data")
    d.add_argument("--matters", type=int, default=0)
    d.add_argument("--invoices", type=int, default=0)
    d.add_argument("--schedules", type=int, default=0)
    d.add_argument("--steps", type=int, default=1)
    d.add_argument("--out", required=True)
    q = sub.add_parser("queries")
    q.add_argument("--path", action="append", default=[])
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseledger.settings")
    import django

    django.setup()
    {"data": data, "queries": queries}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
