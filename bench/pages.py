"""``pages``: every staff page, in-process, on a generated firm at scale against the same pages on
a small firm (the baseline), in the same run and database.

The firm is generated twice over (``bench.generate``: invoices with their payments, trust for
30% of the matters, unbilled time and tasks for half): first the small firm, whose pages are
measured, then the rest up to the full size, and the same pages again.
Each page is asked for ``REQUESTS`` times (twice at the quick size) by a partner and by a billing
user (Django's test client, signed in; the first request of each warms plans and caches and is
not counted), and its statements are counted on the last request of each size.

Full: 20,154 matters (13,436 clients) and 200,062 invoices, the size issue 20 measured the
pages at; quick: 2,000 matters and 20,000 invoices, over a small firm of a tenth of that.
Goal on PostgreSQL: every staff page p95 < 300 ms at the full size, and no page's statement
count growing with the data. The JSON line adds ``worst_p95_ms`` (the slowest page's p95 at
scale), ``over_300ms`` and ``queries_grew`` (pages that miss either), and ``pages`` (per page:
p95 at both sizes and the statement counts).

``rate`` is requests per second at scale, ``baseline_rate`` the same on the small firm, so the
ratio reads how much slower the pages became with ten times the data (1.0: not at all)."""

from __future__ import annotations

import time
from typing import Any

from bench.db import settle
from bench.generate import generate_firm, generate_work
from bench.receivables import generate_receivables
from bench.registry import BenchContext, percentile, register, result
from bench.trust_load import generate_trust

REQUESTS = 10
# (label, URL name or path, which object's id it takes or None): the staff pages people use, lists
# and the detail pages of one busy matter, its client and one of its invoices.
PAGES: tuple[tuple[str, str, str | None], ...] = (
    ("home", "core:home", None),
    ("invoices", "billing:invoice_list", None),
    ("review queue", "billing:review_queue", None),
    ("wip", "billing:wip", None),
    ("invoice", "billing:invoice_detail", "invoice"),
    ("matters", "matters:list", None),
    ("matter", "matters:detail", "matter"),
    ("tasks", "matters:my_tasks", None),
    ("clients", "clients:list", None),
    ("client", "clients:detail", "client"),
    ("payments", "payments:list", None),
    ("credit notes", "credits:credit_note_list", None),
    ("write-offs", "credits:write_off_list", None),
    ("aging", "collections:aging", None),
    ("aging invoices", "collections:aging_invoices", None),
    ("collections queue", "collections:queue", None),
    ("at risk", "collections:at_risk", None),
    ("trust", "trust:dashboard", None),
    ("trust matter", "trust:matter", "matter"),
    ("trust client", "trust:client", "client"),
    ("disbursements", "trust:disbursements", None),
    ("ledger accounts", "ledger:accounts", None),
    ("trial balance", "ledger:trial_balance", None),
    ("A/R ledger", "ledger:account_ledger", "ar"),
    ("client trust ledgers", "ledger:trust_ledgers", None),
    ("reports", "reports:dashboard", None),
    ("billing report", "reports:billing", None),
    ("operations report", "reports:operations", None),
    ("cohorts", "reports:cohorts", None),
    ("banking", "banking:accounts", None),
    ("audit log", "core:audit", None),
    ("api invoices", "/api/v1/billing/invoices", None),
    ("api matters", "/api/v1/matters", None),
    ("api aging", "/api/v1/collections/aging", None),
    ("api trust balances", "/api/v1/trust/balances", None),
)


class BenchFailure(RuntimeError):
    pass


def signed_in_client(user: Any) -> Any:
    """Django's test client signed in as ``user``, its session with the two-factor step done
    (as after a valid code at login) with the user's confirmed device, or a new one when the
    firm requires the step and the user has none."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from caseledger.core.selectors import two_factor_required

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None and two_factor_required(user):
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def _clients() -> dict[str, Any]:
    """A signed-in test client per role (partner, billing)."""
    from caseledger.core.choices import Role
    from caseledger.core.models import User

    return {
        str(role): signed_in_client(
            User.objects.create(
                username=f"bench-pages-{role.lower()}",
                role=role,
                email=f"{role.lower()}@bench.test",
            )
        )
        for role in (Role.PARTNER, Role.BILLING)
    }


def _targets(firm: Any) -> dict[str, str]:
    """The ids the detail pages take: the generated firm's busiest matter (most invoices), its
    client and its latest invoice; the A/R account's code."""
    from django.db.models import Count

    from caseledger.billing.models import Invoice
    from caseledger.ledger import accounts as A

    top = (
        Invoice.objects.filter(matter_id__in=firm.matter_ids[:200])
        .values("matter_id", "client_id")
        .annotate(n=Count("id"))
        .order_by("-n", "matter_id")
        .first()
    )
    if top is None:
        raise BenchFailure("the generated firm has no invoices")
    invoice = Invoice.objects.filter(matter_id=top["matter_id"]).order_by("-id").first()
    assert invoice is not None
    return {
        "matter": str(top["matter_id"]),
        "client": str(top["client_id"]),
        "invoice": str(invoice.pk),
        "ar": A.ACCOUNTS_RECEIVABLE,
    }


def _measure(
    clients: dict[str, Any], targets: dict[str, str], requests: int
) -> dict[str, dict[str, Any]]:
    """Per page: every counted request's seconds (both roles) and the statement count of the
    last request per role. A role the page refuses (403) is left out of that page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    out: dict[str, dict[str, Any]] = {}
    for label, name, arg in PAGES:
        url = name if name.startswith("/") else reverse(name, args=[targets[arg]] if arg else [])
        seconds: list[float] = []
        queries: dict[str, int] = {}
        for role, client in clients.items():
            first = client.get(url)
            if first.status_code == 403:
                continue
            if first.status_code != 200:
                raise BenchFailure(f"{label} ({url}) as {role}: HTTP {first.status_code}")
            for i in range(requests):
                with CaptureQueriesContext(connection) as ctx:
                    t0 = time.perf_counter()
                    client.get(url)
                    seconds.append(time.perf_counter() - t0)
                if i == requests - 1:
                    queries[role] = len(ctx.captured_queries)
        if not seconds:
            raise BenchFailure(f"{label} ({url}): refused to both partner and billing")
        out[label] = {"seconds": seconds, "queries": queries}
    return out


@register("pages")
def bench_pages(ctx: BenchContext) -> dict[str, Any]:
    matters, invoices = (20_154, 200_062) if ctx.full else (500, 5_000)
    requests = REQUESTS if ctx.full else 2
    small_matters, small_invoices = matters // 10, invoices // 10
    small = generate_firm(matters=small_matters, prefix="SML")
    generate_receivables(
        invoices=small_invoices,
        matter_ids=small.matter_ids,
        matter_client=small.matter_client,
        payment_records=True,
    )
    generate_trust(small, share=0.3)
    generate_work(small, share=0.5)
    clients = _clients()
    targets = _targets(small)
    settle()
    before = _measure(clients, targets, requests)
    rest = generate_firm(matters=matters - small_matters, seed=2, prefix="SYN")
    generate_receivables(
        invoices=invoices - small_invoices,
        matter_ids=rest.matter_ids,
        matter_client=rest.matter_client,
        seed=8,
        payment_records=True,
    )
    generate_trust(rest, share=0.3)
    generate_work(rest, share=0.5)
    settle()
    after = _measure(clients, targets, requests)
    pages: dict[str, dict[str, Any]] = {}
    for label, got in after.items():
        was = before[label]
        pages[label] = {
            "p95_ms": round(percentile(got["seconds"], 95) * 1000, 1),
            "small_p95_ms": round(percentile(was["seconds"], 95) * 1000, 1),
            "queries": got["queries"],
            "small_queries": was["queries"],
        }
    all_after = [s for got in after.values() for s in got["seconds"]]
    all_before = [s for was in before.values() for s in was["seconds"]]
    out = result(
        ctx=ctx,
        n=len(all_after),
        seconds=sum(all_after),
        baseline="small_firm",
        baseline_n=len(all_before),
        baseline_seconds=sum(all_before),
        latencies_s=all_after,
    )
    worst = max(pages, key=lambda label: pages[label]["p95_ms"])
    out["matters"] = matters
    out["invoices"] = invoices
    out["worst_page"] = worst
    out["worst_p95_ms"] = pages[worst]["p95_ms"]
    out["over_300ms"] = sorted(label for label, p in pages.items() if p["p95_ms"] >= 300)
    out["queries_grew"] = sorted(
        label
        for label, p in pages.items()
        if any(p["queries"][role] > p["small_queries"].get(role, 0) for role in p["queries"])
    )
    out["pages"] = pages
    return out
