"""Authorization matrix entries for billing's pages and API routes (format: see
``caseledger/core/tests/test_authz_matrix.py``)."""

from __future__ import annotations

from typing import Any

from caseledger.core.tests.authz import PUBLIC

VIEWERS = frozenset({"ADMIN", "PARTNER", "ATTORNEY", "PARALEGAL", "BILLING"})
TIME = VIEWERS
EDITORS = frozenset({"ADMIN", "PARTNER", "BILLING"})
WIP = EDITORS
CONFIGURE = EDITORS
APPROVERS = frozenset({"PARTNER"})
ISSUERS = frozenset({"PARTNER", "BILLING"})


def _invoice(ctx: Any) -> dict[str, Any]:
    """A draft with one line on a matter the attorney and paralegal are assigned to."""
    from caseledger.billing import services
    from caseledger.clients.tests.factories import BeneficiaryFactory, make_company
    from caseledger.matters.tests.factories import make_matter

    users = ctx.users
    company = make_company()
    matter = make_matter(
        client=company,
        beneficiary=BeneficiaryFactory(client=company),
        responsible_partner=users["PARTNER"],
        attorney=users["ATTORNEY"],
        paralegal=users["PARALEGAL"],
    )
    invoice = services.invoice_draft_create(matter=matter, actor=users["BILLING"], now=ctx.now)
    services.invoice_line_add(
        invoice=invoice,
        description="Legal fee",
        unit_price="100",
        actor=users["BILLING"],
        now=ctx.now,
    )
    return {"pk": invoice.pk}


def _invoice_id(ctx: Any) -> dict[str, Any]:
    return {"invoice_id": _invoice(ctx)["pk"]}


def _line(ctx: Any) -> dict[str, Any]:
    from caseledger.billing.models import InvoiceLine

    pk = _invoice(ctx)["pk"]
    return {"pk": pk, "line_pk": InvoiceLine.objects.filter(invoice_id=pk).first().pk}  # type: ignore[union-attr]


def _email(ctx: Any) -> dict[str, Any]:
    from caseledger.billing.models import Invoice
    from caseledger.billing.services.emails import INVOICE_ISSUED_KIND
    from caseledger.core.models import OutboxMessage

    pk = _invoice(ctx)["pk"]
    row = OutboxMessage.objects.create(
        key=f"billing.invoice:{pk}:issued",
        kind=INVOICE_ISSUED_KIND,
        to=["ap@example.com"],
        subject="s",
        body="b",
        message_id="<authz@caseledger.host>",
        related_type=Invoice._meta.label_lower,
        related_id=pk,
        status="SENT",
        next_attempt_at=ctx.now,
        created_at=ctx.now,
    )
    return {"pk": row.pk}


def _template(ctx: Any) -> dict[str, Any]:
    from caseledger.billing import services

    admin = ctx.users["ADMIN"]
    service = services.service_create(
        code="AUTHZ", name="Authz", fee_type="FLAT", default_price="1", actor=admin, now=ctx.now
    )
    template = services.template_create(
        service=service, name="Authz", lines=[], actor=admin, now=ctx.now
    )
    return {"pk": template.pk}


def _trigger(ctx: Any) -> dict[str, Any]:
    from caseledger.billing import services
    from caseledger.billing.models import InvoiceTemplate
    from caseledger.matters.tests.factories import case_type

    h1b = case_type("h1b_cap")
    admin = ctx.users["ADMIN"]
    template = InvoiceTemplate.objects.get(pk=_template(ctx)["pk"])
    trigger = services.trigger_create(
        case_type=h1b,
        template=template,
        kind="STAGE",
        stage=h1b.stages.get(code="filed"),
        actor=admin,
        now=ctx.now,
    )
    return {"pk": trigger.pk}


def _team_matter(ctx: Any) -> Any:
    from caseledger.clients.tests.factories import BeneficiaryFactory, make_company
    from caseledger.matters.tests.factories import make_matter

    company = make_company()
    return make_matter(
        client=company,
        beneficiary=BeneficiaryFactory(client=company),
        responsible_partner=ctx.users["PARTNER"],
        attorney=ctx.users["ATTORNEY"],
        paralegal=ctx.users["PARALEGAL"],
    )


def _own_time(ctx: Any) -> dict[str, Any]:
    """An unbilled time entry of the user asking (their own work may be corrected)."""
    from caseledger.billing.models import TimeEntry

    who = ctx.user or ctx.users["PARTNER"]
    entry = TimeEntry.objects.create(
        timekeeper=who,
        matter=_team_matter(ctx),
        work_date=ctx.now.date(),
        minutes=60,
        activity_code="A103",
        narrative="Drafted the petition letter",
        rate_cents=30_000,
        amount_cents=30_000,
        created_by=who,
        created_at=ctx.now,
    )
    return {"pk": entry.pk}


def _own_expense(ctx: Any) -> dict[str, Any]:
    from caseledger.billing.models import Expense

    who = ctx.user or ctx.users["PARTNER"]
    expense = Expense.objects.create(
        matter=_team_matter(ctx),
        kind="EXPENSE",
        expense_date=ctx.now.date(),
        description="Courier",
        amount_cents=4_500,
        created_by=who,
        created_at=ctx.now,
    )
    return {"pk": expense.pk}


MATRIX: dict[str, dict[str, Any]] = {
    "billing:review_queue": {"allow": APPROVERS},
    "billing:invoice_list": {"allow": VIEWERS},
    "billing:invoice_draft_new": {"allow": EDITORS},
    "billing:invoice_detail": {"allow": VIEWERS, "kwargs": _invoice},
    "billing:invoice_submit": {"allow": EDITORS, "method": "POST", "kwargs": _invoice},
    "billing:invoice_approve": {"allow": APPROVERS, "method": "POST", "kwargs": _invoice},
    "billing:invoice_return": {
        "allow": APPROVERS,
        "method": "POST",
        "kwargs": _invoice,
        "data": {"comment": "Fix it"},
    },
    "billing:invoice_issue": {"allow": ISSUERS, "method": "POST", "kwargs": _invoice},
    "billing:invoice_void": {
        "allow": ISSUERS,
        "method": "POST",
        "kwargs": _invoice,
        "data": {"reason": "Duplicate"},
    },
    "billing:invoice_line_add": {
        "allow": EDITORS,
        "method": "POST",
        "kwargs": _invoice,
        "data": {
            "description": "Extra",
            "kind": "FEE",
            "category": "ATTORNEY_FEE",
            "quantity": "1",
            "unit_price": "10",
        },
    },
    "billing:invoice_line_remove": {"allow": EDITORS, "method": "POST", "kwargs": _line},
    # Editing a line in place: whoever may add lines (the page, then the save).
    "billing:invoice_line_edit": {"allow": EDITORS, "kwargs": _line},
    "billing:invoice_pdf": {"allow": VIEWERS, "kwargs": _invoice},
    "billing:invoice_ledes": {"allow": VIEWERS, "kwargs": _invoice},
    "billing:ledes_export": {"allow": VIEWERS},
    "billing:ledes_import": {"allow": EDITORS},
    "billing:outbox_retry": {"allow": ISSUERS, "method": "POST", "kwargs": _email},
    "billing:wip": {"allow": WIP},
    "billing:time_entry_new": {"allow": TIME},
    "billing:expense_new": {"allow": TIME, "method": "POST", "data": {}},
    "billing:time_entry_edit": {"allow": TIME, "kwargs": _own_time},
    "billing:time_entry_delete": {"allow": TIME, "method": "POST", "kwargs": _own_time},
    "billing:expense_edit": {"allow": TIME, "kwargs": _own_expense},
    "billing:expense_delete": {"allow": TIME, "method": "POST", "kwargs": _own_expense},
    "billing:fee_schedule": {"allow": CONFIGURE},
    "billing:government_fees": {"allow": EDITORS},
    "billing:invoice_filing_date": {
        "allow": EDITORS,
        "method": "POST",
        "kwargs": _invoice,
        "data": {"filing_date": "2026-06-01", "filing_method": "PAPER"},
    },
    "billing:invoice_line_fee_path": {
        "allow": EDITORS,
        "method": "POST",
        "kwargs": _line,
        "data": {"fee_path": "CLIENT_DIRECT"},
    },
    "billing:templates": {"allow": CONFIGURE},
    "billing:template_new": {
        "allow": CONFIGURE,
        "method": "POST",
        "data": {"name": "x"},
    },
    "billing:template_edit": {"allow": CONFIGURE, "kwargs": _template},
    "billing:trigger_deactivate": {"allow": CONFIGURE, "method": "POST", "kwargs": _trigger},
    "billing:billing_settings": {"allow": CONFIGURE, "method": "POST", "data": {}},
    # What a payment link opens: public by design; a forged token is a 404 page.
    "billing:public_invoice": {"allow": PUBLIC, "kwargs": {"token": "forged"}},
    "GET /api/v1/billing/invoices": {"allow": VIEWERS},
    "GET /api/v1/billing/invoices/{invoice_id}": {"allow": VIEWERS, "kwargs": _invoice_id},
    "POST /api/v1/billing/invoices/{invoice_id}/approve": {
        "allow": APPROVERS,
        "kwargs": _invoice_id,
        "status": {"PARTNER": 409},
    },
    "POST /api/v1/billing/invoices/{invoice_id}/issue": {
        "allow": ISSUERS,
        "kwargs": _invoice_id,
        "status": {"PARTNER": 409, "BILLING": 409},
    },
    "POST /api/v1/billing/ledes/export": {
        "allow": VIEWERS,
        "json": {"client_id": 0, "start": "2026-10-01", "end": "2026-10-31"},
        "status": dict.fromkeys(VIEWERS, 404),
    },
    "POST /api/v1/billing/ledes/import": {"allow": EDITORS, "json": {"text": "LEDES1998B[]"}},
    "POST /api/v1/billing/time-entries": {
        "allow": TIME,
        "json": {
            "matter_id": 999_999,
            "work_date": "2026-11-02",
            "hours": "1",
            "activity_code": "A103",
            "narrative": "x",
        },
        "status": dict.fromkeys(TIME, 404),
    },
}
