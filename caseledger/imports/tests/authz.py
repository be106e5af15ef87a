"""Authorization matrix entries for the import pages (format: core/tests/test_authz_matrix.py)."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

RUN = frozenset({Role.ADMIN.value, Role.PARTNER.value, Role.BILLING.value})
CUTOVER = frozenset({Role.ADMIN.value, Role.PARTNER.value})

CONTACTS = b"first_name,last_name,email_address\nIngrid,Halvorsen,ingrid@example.com\n"


def _job(ctx: Any) -> dict[str, Any]:
    from caseledger.imports.services import job_create

    job = job_create(
        source="clio-contacts",
        filename="c.csv",
        data=CONTACTS,
        mapping=None,
        actor=None,
        now=ctx.now,
    )
    return {"job_id": job.pk}


def _legacy(ctx: Any) -> dict[str, Any]:
    from datetime import date

    from caseledger.credits.tests import factories
    from caseledger.imports.models import LegacyInvoice

    matter = factories.matter(partner=ctx.users["PARTNER"])
    invoice = LegacyInvoice.objects.create(
        number=f"A{matter.pk}",
        client=matter.client,
        matter=matter,
        issue_date=date(2025, 4, 1),
        due_date=date(2025, 5, 1),
        total_cents=10000,
        balance_cents=10000,
        created_at=ctx.now,
    )
    return {"invoice_id": invoice.pk}


def _hold(ctx: Any) -> dict[str, Any]:
    from caseledger.credits.tests import factories
    from caseledger.imports.retention import legal_hold_place

    matter = factories.matter(partner=ctx.users["PARTNER"])
    hold = legal_hold_place(matter=matter, reason="Audit", actor=None, now=ctx.now)
    return {"hold_id": hold.pk}


def _run(ctx: Any) -> dict[str, Any]:
    from datetime import date

    from caseledger.imports.parallel import parallel_run_create

    run = parallel_run_create(
        cycle_start=date(2026, 11, 1),
        cycle_end=date(2026, 11, 30),
        filename="old.csv",
        data=b"number,matter,line_type,line_total\n9002,OLD-77,expenses,25.00\n",
        actor=None,
        now=ctx.now,
    )
    return {"run_id": run.pk}


MATRIX: dict[str, dict[str, Any]] = {
    "imports:home": {"allow": RUN},
    "imports:sample": {"allow": RUN, "kwargs": {"name": "clio-contacts"}},
    "imports:job_map": {"allow": RUN, "kwargs": _job},
    "imports:job_detail": {"allow": RUN, "kwargs": _job},
    "imports:job_dry_run": {"allow": RUN, "method": "POST", "kwargs": _job},
    "imports:job_commit": {"allow": RUN, "method": "POST", "kwargs": _job},
    "imports:cutover": {"allow": CUTOVER},
    "imports:export": {"allow": CUTOVER},
    "imports:parallel_runs": {"allow": RUN},
    "imports:parallel_run": {"allow": RUN, "kwargs": _run},
    "imports:parallel_run_csv": {"allow": RUN, "kwargs": _run},
    "imports:parallel_run_sign": {
        "allow": frozenset({Role.PARTNER.value}),
        "method": "POST",
        "kwargs": _run,
    },
    "imports:retention": {"allow": CUTOVER},
    "imports:retention_purge": {"allow": CUTOVER},
    "imports:hold_release": {"allow": CUTOVER, "method": "POST", "kwargs": _hold},
    "imports:audit_pack": {"allow": CUTOVER},
    "imports:export_download": {"allow": CUTOVER, "method": "POST"},
    "imports:legacy_invoices": {"allow": RUN},
    "imports:legacy_invoice": {"allow": RUN, "kwargs": _legacy},
    "imports:legacy_invoice_pay": {"allow": RUN, "kwargs": _legacy},
    "imports:cutover_finalize": {"allow": CUTOVER, "method": "POST"},
    "imports:cutover_reconciliation_prepare": {"allow": CUTOVER, "method": "POST"},
}
