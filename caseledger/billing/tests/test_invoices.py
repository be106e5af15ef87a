"""Drafting, payer rules, review, issue (number, ledger, PDF, email), void, immutability."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, InternalError, connection, transaction

from caseledger.billing import selectors, services
from caseledger.billing.choices import (
    FeeCategory,
    InvoiceStatus,
    LineKind,
    Payer,
)
from caseledger.billing.exceptions import (
    BillingError,
    InvoiceImmutable,
    InvoiceTransitionError,
    PayerRuleViolation,
)
from caseledger.billing.models import Invoice, InvoiceLine, InvoicePdf
from caseledger.billing.tests.factories import (
    H1B_ATTORNEY_RULE,
    H1B_GOV_RULE,
    PERM_RULE,
    advance_fees,
    approved_draft,
    issued_invoice,
)
from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import Posting
from caseledger.ledger.selectors import account_balance
from caseledger.ledger.services import PostingLine, entry_post

pytestmark = pytest.mark.django_db


def test_draft_from_template_has_fee_and_government_fees_in_force(world: Any) -> None:
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    lines = list(invoice.lines.order_by("position"))
    assert [(line.kind, line.description, line.amount_cents) for line in lines] == [
        (LineKind.FEE, "H-1B petition: preparation and filing", 350_000),
        (LineKind.GOVERNMENT_FEE, "USCIS I-129 filing fee", 78_000),
        (LineKind.GOVERNMENT_FEE, "ACWIA training fee", 150_000),
        (LineKind.GOVERNMENT_FEE, "Fraud prevention and detection fee", 50_000),
    ]
    assert invoice.total_cents == 628_000 == sum(line.amount_cents for line in lines)
    assert invoice.responsible_partner == world.partner
    assert invoice.status == InvoiceStatus.DRAFT
    assert AuditEvent.objects.filter(
        action="billing.invoice_drafted", object_id=str(invoice.pk)
    ).exists()


def test_government_fee_change_applies_from_its_date_and_issued_invoices_keep_theirs(
    world: Any,
) -> None:
    first = issued_invoice(world)
    services.government_fee_add(
        case_type=world.h1b,
        code="I129",
        name="USCIS I-129 filing fee",
        amount="1,015.00",
        effective_date=world.now.date() + timedelta(days=30),
        actor=world.billing,
        now=world.now,
    )
    before_change = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    after_change = services.invoice_draft_create(
        matter=world.matter,
        actor=world.billing,
        now=world.now + timedelta(days=31),
        template=world.template,
    )

    def i129(inv: Invoice) -> int:
        return inv.lines.get(government_fee__code="I129").amount_cents

    assert i129(before_change) == 78_000
    assert i129(after_change) == 101_500
    first.refresh_from_db()
    assert i129(first) == 78_000
    assert first.total_cents == 628_000


def test_payer_rule_refuses_attorney_fee_to_h1b_beneficiary(world: Any) -> None:
    with pytest.raises(PayerRuleViolation) as exc:
        services.invoice_draft_create(
            matter=world.matter,
            actor=world.billing,
            now=world.now,
            bill_to=Payer.BENEFICIARY,
            template=world.template,
        )
    assert exc.value.message == (
        "bill_to: attorney fee may not be billed to the beneficiary on H-1B cap petition "
        f"matters ({H1B_ATTORNEY_RULE}) — line 'H-1B petition: preparation and filing'"
    )
    assert not Invoice.objects.exists()


def test_payer_rule_refuses_required_government_fee_line_added_later(world: Any) -> None:
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, bill_to=Payer.BENEFICIARY
    )
    with pytest.raises(PayerRuleViolation) as exc:
        services.invoice_line_add(
            invoice=invoice,
            description="USCIS I-129 filing fee",
            unit_price="780",
            kind=LineKind.GOVERNMENT_FEE,
            category=FeeCategory.REQUIRED_GOVERNMENT_FEE,
            fee_code="I129",
            actor=world.billing,
            now=world.now,
        )
    assert H1B_GOV_RULE in exc.value.message
    assert not invoice.lines.exists()


def test_perm_costs_may_not_be_billed_to_the_beneficiary(world: Any) -> None:
    perm_matter = world.new_matter(case_type_code="perm")
    invoice = services.invoice_draft_create(
        matter=perm_matter, actor=world.billing, now=world.now, bill_to=Payer.BENEFICIARY
    )
    with pytest.raises(PayerRuleViolation) as exc:
        services.invoice_line_add(
            invoice=invoice,
            description="Recruitment advertising",
            unit_price="1,200.00",
            kind=LineKind.EXPENSE,
            category=FeeCategory.COST,
            actor=world.billing,
            now=world.now,
        )
    assert exc.value.message == (
        "bill_to: case cost / expense may not be billed to the beneficiary on PERM labor "
        f"certification matters ({PERM_RULE}) — line 'Recruitment advertising'"
    )


def test_one_matter_bills_employer_and_beneficiary_on_separate_invoices(world: Any) -> None:
    employer = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    employee = services.invoice_draft_create(
        matter=world.matter,
        actor=world.billing,
        now=world.now,
        template=world.h4_template,
        bill_to=Payer.BENEFICIARY,
    )
    services.invoice_line_add(
        invoice=employee,
        description="Premium processing (optional, employee's request)",
        unit_price="2,805.00",
        kind=LineKind.GOVERNMENT_FEE,
        category=FeeCategory.OPTIONAL_GOVERNMENT_FEE,
        fee_code="PREMIUM",
        actor=world.billing,
        now=world.now,
    )
    employee.refresh_from_db()
    assert employer.bill_to == Payer.PETITIONER
    assert employee.bill_to == Payer.BENEFICIARY
    assert employee.total_cents == 75_000 + 280_500
    for inv, who in ((employer, world.billing), (employee, world.billing)):
        advance_fees(inv, actor=who, now=world.now)  # the firm paid USCIS (ADR 011)
        services.invoice_submit(invoice=inv, actor=who, now=world.now)
        services.invoice_approve(invoice=inv, actor=world.partner, now=world.now)
        services.invoice_issue(invoice=inv, actor=world.billing, now=world.now)
    employee.refresh_from_db()
    employer.refresh_from_db()
    assert employee.bill_to_name == world.matter.beneficiary.name
    assert employee.bill_to_email == "rahul@mail.example"
    assert employer.bill_to_name == world.matter.client.name
    assert "500 Howard Street" in employer.bill_to_address
    assert {employer.number, employee.number} == {"2026-000001", "2026-000002"}


def test_transition_table_refuses_skipping_review(world: Any) -> None:
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    with pytest.raises(InvoiceTransitionError) as exc:
        services.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    assert exc.value.message == "status: an invoice cannot go from draft to issued"
    with pytest.raises(InvoiceTransitionError) as exc2:
        services.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)
    assert exc2.value.message == "status: an invoice cannot go from draft to approved"


def test_partner_may_not_approve_own_draft_when_the_firm_forbids_it(world: Any) -> None:
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.partner, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=invoice, actor=world.partner, now=world.now)
    with pytest.raises(BillingError) as exc:
        services.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)
    assert exc.value.message == (
        "approve: the firm forbids approving your own draft; another partner must approve "
        f"{invoice}"
    )
    services.billing_settings_update(actor=world.partner, now=world.now, forbid_self_approval=False)
    services.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED


def test_approving_needs_the_permission(world: Any, users: dict[str, Any]) -> None:
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    with pytest.raises(NotPermitted) as exc:
        services.invoice_approve(invoice=invoice, actor=users["BILLING"], now=world.now)
    assert exc.value.message == "billing.approve: not permitted for your role (Billing (finance))."
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW


def test_return_with_comment_and_resubmit(world: Any) -> None:
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    with pytest.raises(BillingError) as exc:
        services.invoice_return(invoice=invoice, actor=world.partner, now=world.now, comment=" ")
    assert exc.value.message == "comment: say what the draft needs before returning it"
    services.invoice_return(
        invoice=invoice, actor=world.partner, now=world.now, comment="Add the premium fee"
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.review_comment == "Add the premium fee"
    event = AuditEvent.objects.get(action="billing.invoice_returned")
    assert event.after == {"status": "DRAFT", "comment": "Add the premium fee"}
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert invoice.review_comment == ""


def test_bulk_approve_approves_each_and_reports_refusals(world: Any) -> None:
    ok = [
        services.invoice_draft_create(
            matter=world.matter, actor=world.billing, now=world.now, template=world.template
        )
        for _ in range(2)
    ]
    for inv in ok:
        services.invoice_submit(invoice=inv, actor=world.billing, now=world.now)
    own = services.invoice_draft_create(
        matter=world.matter, actor=world.partner, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=own, actor=world.partner, now=world.now)
    approved, refused = services.invoice_bulk_approve(
        invoice_ids=[ok[0].pk, ok[1].pk, own.pk], actor=world.partner, now=world.now
    )
    assert sorted(i.pk for i in approved) == sorted(i.pk for i in ok)
    assert list(refused) == [own.pk]
    assert refused[own.pk].startswith("approve: the firm forbids approving your own draft")


def test_issue_numbers_posts_freezes_stores_pdf_and_emails(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    invoice = approved_draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        issued = services.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    issued.refresh_from_db()
    assert issued.status == InvoiceStatus.ISSUED
    assert issued.number == "2026-000001"
    assert issued.issue_date == date(2026, 11, 2)
    assert issued.due_date == date(2026, 12, 2)
    assert issued.issued_at == world.now
    # ledger: Dr A/R total; Cr revenue for the legal fee; Cr cost advances for the USCIS fees
    entry = issued.issue_entry
    assert entry is not None
    assert entry.kind == EntryKind.INVOICE_ISSUED
    postings = {
        (p.account.code, p.amount_cents)
        for p in Posting.objects.filter(entry=entry).select_related("account")
    }
    assert postings == {
        (accounts.ACCOUNTS_RECEIVABLE, 628_000),
        (accounts.FEE_REVENUE, -350_000),
        (accounts.CLIENT_COST_ADVANCES, -278_000),
    }
    assert set(Posting.objects.filter(entry=entry).values_list("invoice_id", flat=True)) == {
        issued.pk
    }
    assert account_balance(code=accounts.ACCOUNTS_RECEIVABLE) == 628_000
    # PDF stored once with its hash
    pdf = InvoicePdf.objects.get(invoice=issued)
    content = bytes(pdf.content)
    assert content.startswith(b"%PDF")
    assert pdf.sha256 == hashlib.sha256(content).hexdigest()
    # email with the PDF attached and the signed link, sent after commit
    (row,) = selectors.invoice_emails(invoice=issued)
    assert row.status == "SENT"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ap@northwind.example"]
    assert message.subject == "Invoice 2026-000001 from Your Immigration Law Firm"
    assert message.attachments[0][0] == "invoice-2026-000001.pdf"
    assert message.attachments[0][1] == content
    link = services.payment_link_for(invoice=issued)
    assert link in message.body
    assert services.payment_link_resolve(token=link.rstrip("/").rsplit("/", 1)[1]) == issued


def test_numbers_are_gapless_across_a_refused_issue(world: Any) -> None:
    first = issued_invoice(world)
    broken = approved_draft(world)
    # a line that now breaks a payer rule makes the issue fail: the number is not consumed
    Invoice.objects.filter(pk=broken.pk).update(bill_to=Payer.BENEFICIARY)
    with pytest.raises(PayerRuleViolation):
        services.invoice_issue(invoice=broken, actor=world.billing, now=world.now)
    second = issued_invoice(world)
    assert [first.number, second.number] == ["2026-000001", "2026-000002"]
    broken.refresh_from_db()
    assert broken.number is None
    assert broken.status == InvoiceStatus.APPROVED


def test_firm_number_format_and_new_year_counter(world: Any) -> None:
    from caseledger.core.models import Firm

    Firm.objects.filter(id=1).update(
        invoice_number_format="INV-{year}/{seq}", invoice_number_width=4
    )
    a = issued_invoice(world)
    b = issued_invoice(world, now=world.now.replace(year=2027, month=1, day=5))
    assert (a.number, b.number) == ("INV-2026/0001", "INV-2027/0001")


def test_issued_invoice_cannot_be_edited_through_services(world: Any) -> None:
    invoice = issued_invoice(world)
    line = invoice.lines.first()
    with pytest.raises(InvoiceImmutable) as exc:
        services.invoice_line_update(line=line, actor=world.billing, now=world.now, unit_price="1")
    assert exc.value.message == (
        "invoice: 2026-000001 is issued; issued invoices cannot be edited (issue a credit note)"
    )
    with pytest.raises(InvoiceImmutable):
        services.invoice_line_add(
            invoice=invoice, description="x", unit_price="1", actor=world.billing, now=world.now
        )
    with pytest.raises(InvoiceImmutable):
        services.invoice_line_remove(line=line, actor=world.billing, now=world.now)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE billing_invoice SET total_cents = 1, subtotal_cents = 1 WHERE id = %s",
        "UPDATE billing_invoice SET number = 'X-1' WHERE id = %s",
        "UPDATE billing_invoice SET bill_to_address = 'elsewhere' WHERE id = %s",
        "UPDATE billing_invoice SET status = 'DRAFT' WHERE id = %s",
        "UPDATE billing_invoiceline SET amount_cents = 1 WHERE invoice_id = %s",
        "DELETE FROM billing_invoiceline WHERE invoice_id = %s",
        "DELETE FROM billing_invoice WHERE id = %s",
        "INSERT INTO billing_invoiceline (invoice_id, position, kind, category, description, "
        "quantity, unit_price_cents, amount_cents, taxable, tax_cents, utbms_task_code, "
        "utbms_activity_code, utbms_expense_code) VALUES (%s, 9, 'FEE', 'ATTORNEY_FEE', 'x', 1, 1, "
        "1, false, 0, '', '', '')",
    ],
)
def test_immutability_is_enforced_below_the_views(world: Any, sql: str) -> None:
    invoice = issued_invoice(world)
    with (
        pytest.raises((IntegrityError, InternalError)) as exc,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [invoice.pk])
    assert "immutable" in str(exc.value)
    invoice.refresh_from_db()
    assert invoice.total_cents == 628_000
    assert invoice.number == "2026-000001"


def test_void_keeps_number_reverses_entry_and_releases_work(world: Any) -> None:
    invoice = issued_invoice(world)
    with pytest.raises(BillingError) as exc:
        services.invoice_void(invoice=invoice, actor=world.partner, now=world.now, reason="")
    assert exc.value.message == "reason: say why the invoice is void"
    voided = services.invoice_void(
        invoice=invoice, actor=world.partner, now=world.now, reason="Wrong client"
    )
    voided.refresh_from_db()
    assert voided.status == InvoiceStatus.VOID
    assert voided.number == "2026-000001"
    assert voided.void_entry.reverses_id == voided.issue_entry_id
    assert account_balance(code=accounts.ACCOUNTS_RECEIVABLE) == 0
    # the raw guard allows nothing more once void
    with (
        pytest.raises((IntegrityError, InternalError)),
        transaction.atomic(),
        connection.cursor() as c,
    ):
        c.execute("UPDATE billing_invoice SET status = 'ISSUED' WHERE id = %s", [voided.pk])


def test_void_after_a_payment_is_refused(world: Any) -> None:
    invoice = issued_invoice(world)
    entry_post(
        kind=EntryKind.PAYMENT_RECEIVED,
        entry_date=world.now.date(),
        memo="check 1001",
        lines=[
            PostingLine(
                accounts.OPERATING_BANK, 10_000, client=invoice.client, matter=invoice.matter
            ),
            PostingLine(
                accounts.ACCOUNTS_RECEIVABLE,
                -10_000,
                client=invoice.client,
                matter=invoice.matter,
                invoice=invoice,
            ),
        ],
        actor=world.billing,
        now=world.now,
    )
    with pytest.raises(BillingError) as exc:
        services.invoice_void(invoice=invoice, actor=world.partner, now=world.now, reason="x")
    assert exc.value.message == (
        "void: invoice 2026-000001 has payments or credits applied; issue a credit note instead"
    )


def test_unbilled_time_and_cost_advances_are_billed_once(world: Any) -> None:
    services.time_entry_create(
        timekeeper=world.attorney,
        matter=world.matter,
        work_date=date(2026, 10, 30),
        hours="1.5",
        activity_code="A103",
        task_code="L250",
        narrative="Draft RFE response",
        actor=world.attorney,
        now=world.now,
    )
    services.expense_create(
        matter=world.matter,
        kind="COST_ADVANCE",
        expense_date=date(2026, 10, 31),
        description="USCIS biometrics fee paid for client",
        amount="85.00",
        expense_code="E123",
        actor=world.billing,
        now=world.now,
    )
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, include_unbilled=True
    )
    kinds = list(invoice.lines.order_by("position").values_list("kind", "amount_cents"))
    assert kinds == [(LineKind.TIME, 63_750), (LineKind.COST_ADVANCE, 8_500)]
    again = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, include_unbilled=True
    )
    assert not again.lines.exists()
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    services.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)
    services.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    entry = Invoice.objects.get(pk=invoice.pk).issue_entry
    assert entry is not None
    by_account = {p.account.code: p.amount_cents for p in entry.postings.select_related("account")}
    assert by_account == {
        accounts.ACCOUNTS_RECEIVABLE: 72_250,
        accounts.FEE_REVENUE: -63_750,
        accounts.CLIENT_COST_ADVANCES: -8_500,
    }


def test_discarding_a_draft_releases_its_work(world: Any) -> None:
    entry = services.time_entry_create(
        timekeeper=world.attorney,
        matter=world.matter,
        work_date=date(2026, 10, 30),
        hours="0.5",
        activity_code="A106",
        narrative="Call with HR",
        actor=world.attorney,
        now=world.now,
    )
    draft = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, include_unbilled=True
    )
    entry.refresh_from_db()
    assert entry.invoice_line is not None
    services.invoice_void(invoice=draft, actor=world.partner, now=world.now, reason="Not now")
    entry.refresh_from_db()
    assert entry.invoice_line is None
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.VOID
    assert draft.number is None


def test_tax_per_invoice_setting_is_frozen_at_issue(world: Any) -> None:
    services.billing_settings_update(
        actor=world.partner, now=world.now, tax_mode="PER_INVOICE", tax_rate_bp=825
    )
    invoice = issued_invoice(world)
    invoice.refresh_from_db()
    # 8.25 % on the legal fee only (government fees are not taxed)
    assert invoice.tax_cents == 28_875
    assert invoice.total_cents == invoice.subtotal_cents + 28_875
    postings = list(
        Posting.objects.filter(entry_id=invoice.issue_entry_id).values_list(
            "account__code", "amount_cents"
        )
    )
    assert sum(amount for _, amount in postings) == 0
    assert ("2300", -28_875) in postings
    services.billing_settings_update(actor=world.partner, now=world.now, tax_rate_bp=0)
    invoice.refresh_from_db()
    assert invoice.tax_cents == 28_875


def test_line_input_errors_name_the_field(world: Any) -> None:
    invoice = services.invoice_draft_create(matter=world.matter, actor=world.billing, now=world.now)
    with pytest.raises(BillingError) as exc:
        services.invoice_line_add(
            invoice=invoice,
            description="Fee",
            unit_price="12,34.5",
            actor=world.billing,
            now=world.now,
        )
    assert exc.value.message == "unit_price: must be an amount such as 1,234.56 (got '12,34.5')"
    with pytest.raises(BillingError) as exc2:
        services.invoice_line_add(
            invoice=invoice, description="Fee", unit_price="-5", actor=world.billing, now=world.now
        )
    assert exc2.value.message == "unit_price: must not be negative (got -$5.00)"
    with pytest.raises(BillingError) as exc3:
        services.invoice_line_add(
            invoice=invoice,
            description="Fee",
            unit_price="5",
            quantity="0",
            actor=world.billing,
            now=world.now,
        )
    assert exc3.value.message == "quantity: must be a number greater than zero (got '0')"
    assert not InvoiceLine.objects.filter(invoice=invoice).exists()


def test_the_issued_pdf_never_changes(world: Any, login: Any) -> None:
    from caseledger.core.models import Firm

    invoice = issued_invoice(world)
    stored = bytes(InvoicePdf.objects.get(invoice=invoice).content)
    Firm.objects.filter(id=1).update(name="Renamed Partners LLP")
    services.government_fee_add(
        case_type=world.h1b,
        code="I129",
        name="USCIS I-129 filing fee",
        amount="999.00",
        effective_date=world.now.date(),
        actor=world.billing,
        now=world.now,
    )
    served = login(world.partner).get(f"/billing/invoices/{invoice.pk}/pdf/")
    assert bytes(served.content) == stored
    with (
        pytest.raises((IntegrityError, InternalError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE billing_invoicepdf SET sha256 = 'x' WHERE invoice_id = %s", [invoice.pk]
        )
