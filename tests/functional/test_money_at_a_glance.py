"""Matter and client money at a glance: the page panels each upper app contributes, the matter
budget with its threshold tasks, the "waiting on me" page, and the advance notice."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from caseledger.billing import services as billing
from caseledger.billing.tests.factories import build_world, issued_invoice
from caseledger.core.audit import AuditEvent  # type: ignore[attr-defined]
from caseledger.core.forms import error_text
from caseledger.core.panels import page_panels
from caseledger.credits import services as credits
from caseledger.credits.tests import factories as cf
from caseledger.matters import services as matters
from caseledger.matters.choices import TaskStatus
from caseledger.matters.models import BudgetChange, Task
from caseledger.matters.tests.factories import make_matter

pytestmark = pytest.mark.django_db


def _money_world(users, now):
    """A billed, partly paid, partly credited H-1B matter with trust money and unbilled time."""
    world = build_world(users, now)
    matter = world.matter
    cf.trust_deposit(matter_obj=matter, cents=250_000, day=now.date())
    invoice = issued_invoice(world)
    cf.pay(invoice_obj=invoice, cents=100_000, day=now.date(), now=now, actor=world.billing)
    billing.time_entry_create(
        timekeeper=world.attorney,
        matter=matter,
        work_date=now.date(),
        hours=Decimal("1.5"),
        activity_code="A103",
        narrative="Draft support letter",
        actor=world.attorney,
        now=now,
    )
    return world, matter, invoice


def test_matter_page_shows_its_money(users, login, now):
    world, matter, invoice = _money_world(users, now)
    response = login(users["PARTNER"]).get(reverse("matters:detail", args=[matter.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for key in (
        "trust.balances",
        "collections.aging",
        "payments.budget",
        "billing.unbilled",
        "billing.next_trigger",
        "payments.invoices",
        "payments.payments",
        "credits.notes",
    ):
        assert f'data-panel="{key}"' in html, key
    assert "$2,500.00" in html  # in trust
    assert "Partly paid" in html or "Overdue" in html
    assert invoice.number in html
    assert "1.5 h in 1 entry" in html


def test_panels_follow_the_role(users, login, now):
    world, matter, _ = _money_world(users, now)
    html = login(world.paralegal).get(reverse("matters:detail", args=[matter.pk])).content.decode()
    assert 'data-panel="trust.balances"' in html
    assert 'data-panel="payments.invoices"' in html  # billing.view
    assert 'data-panel="credits.notes"' not in html
    assert 'data-panel="payments.payments"' not in html
    assert 'data-panel="collections.aging"' not in html


def test_client_page_adds_unapplied_credit_last_payment_and_aging(users, login, now):
    world, matter, invoice = _money_world(users, now)
    html = (
        login(users["BILLING"])
        .get(reverse("clients:detail", args=[matter.client_id]))
        .content.decode()
    )
    assert "Unapplied credit" in html
    assert "Last payment" in html
    assert "$1,000.00 on" in html
    assert "90+" in html
    assert 'data-panel="payments.budget"' not in html  # a matter's, not the client's


def test_next_billing_names_the_stage_and_template(users, login, now):
    world = build_world(users, now)
    html = (
        login(users["PARTNER"])
        .get(reverse("matters:detail", args=[world.matter.pk]))
        .content.decode()
    )
    assert world.prepare_filing.name in html
    assert world.template.name in html


def test_stage_that_drafts_an_invoice_says_so_with_a_link(users, login, now):
    world = build_world(users, now)
    matter = world.matter
    http = login(world.attorney)
    # Walk to the stage before prepare_filing, then advance onto it.
    stages = list(matter.case_type.stages.order_by("position"))
    target = world.prepare_filing
    for stage in stages:
        if matter.current_stage.position < stage.position < target.position and not stage.optional:
            matters.matter_stage_advance(matter=matter, stage=stage, actor=None, now=now)
            matter.refresh_from_db()
    response = http.post(
        reverse("matters:advance", args=[matter.pk]), {"stage": target.pk}, follow=True
    )
    html = response.content.decode()
    from caseledger.billing.models import Invoice

    draft = Invoice.objects.get(matter=matter, status="IN_REVIEW")
    assert "Drafted invoice for" in html
    link = reverse("billing:invoice_detail", args=[draft.pk])
    assert f'<a href="{link}">open the draft</a>' in html


# Query counts -------------------------------------------------------------------------------


def _count(http, url):
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_client_page_queries_do_not_grow_with_matters(users, login, now):
    world = build_world(users, now)
    client = world.matter.client
    http = login(users["PARTNER"])

    def add(n):
        for _ in range(n):
            m = cf.matter(client_obj=client, partner=world.partner)
            cf.trust_deposit(matter_obj=m, cents=10_000, day=now.date())
            inv = cf.invoice(matter_obj=m, cents=50_000, issued=now.date() - timedelta(days=45))
            cf.pay(invoice_obj=inv, cents=10_000, day=now.date(), now=now)

    add(2)
    url = reverse("clients:detail", args=[client.pk])
    few = _count(http, url)
    add(4)
    assert _count(http, url) == few


def test_matter_page_queries_do_not_grow_with_invoices(users, login, now):
    world = build_world(users, now)
    matter = world.matter
    http = login(users["PARTNER"])

    def add(n):
        for _ in range(n):
            inv = cf.invoice(matter_obj=matter, cents=20_000, issued=now.date())
            cf.pay(invoice_obj=inv, cents=5_000, day=now.date(), now=now)
            cf.trust_deposit(matter_obj=matter, cents=1_000, day=now.date())

    add(2)
    url = reverse("matters:detail", args=[matter.pk])
    few = _count(http, url)
    add(5)
    assert _count(http, url) == few


# Budget -------------------------------------------------------------------------------------


def _budget_tasks(matter):
    return Task.objects.filter(system_key__startswith=f"matters.budget:{matter.pk}:")


def test_budget_set_on_the_matter_page_is_audited(users, login, now):
    matter = make_matter(attorney=users["ATTORNEY"])
    http = login(users["PARTNER"])
    response = http.post(
        reverse("matters:budget", args=[matter.pk]),
        {"budget_kind": "FLAT_FEE", "budget": "4,000.00", "reason": "Engagement letter"},
    )
    assert response.status_code == 302
    matter.refresh_from_db()
    assert (matter.budget_kind, matter.budget_cents) == ("FLAT_FEE", 400_000)
    change = BudgetChange.objects.get(matter=matter)
    assert (change.before_cents, change.after_cents, change.reason) == (
        None,
        400_000,
        "Engagement letter",
    )
    assert AuditEvent.objects.filter(action="matters.budget_set", object_id=str(matter.pk)).exists()
    html = http.get(reverse("matters:detail", args=[matter.pk])).content.decode()
    assert "$4,000.00" in html
    assert "Engagement letter" in html


def test_budget_needs_a_reason_and_an_amount(users, login):
    matter = make_matter()
    http = login(users["PARTNER"])
    response = http.post(
        reverse("matters:budget", args=[matter.pk]), {"budget_kind": "ESTIMATE", "reason": "x"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    # Under the budget field (core.forms.handle_form), without the internal "budget:" prefix.
    block = re.search(r'<ul class="errorlist" id="id_budget-errors">(.*?)</ul>', html, re.S)
    assert block is not None
    assert error_text(matters.BUDGET_AMOUNT_REQUIRED, "budget") in block.group(1)
    assert matters.BUDGET_AMOUNT_REQUIRED not in html


def test_budget_thresholds_open_one_task_each(users, now):
    world = build_world(users, now)
    matter = world.matter
    first = issued_invoice(world)
    billed = first.total_cents
    # 85% billed after the budget is set: the 80% task opens at once, for the attorney.
    matters.matter_budget_set(
        matter=matter,
        kind="FLAT_FEE",
        amount_cents=billed * 100 // 85,
        reason="Engagement",
        actor=world.partner,
        now=now,
    )
    tasks = list(_budget_tasks(matter))
    assert [t.system_key.rsplit(":", 1)[1] for t in tasks] == ["80"]
    assert tasks[0].assignee == world.attorney
    # Running the check again opens nothing; neither after the task is done.
    matter.refresh_from_db()
    assert matters.matter_budget_check(matter=matter, now=now) == []
    matters.task_complete(task=tasks[0], actor=world.attorney, now=now)
    assert matters.matter_budget_check(matter=matter, now=now) == []
    # A second invoice crosses 100%: one more task, through billing's issue.
    issued_invoice(world, now=now + timedelta(hours=1))
    keys = sorted(t.system_key for t in _budget_tasks(matter))
    assert keys == [f"matters.budget:{matter.pk}:100", f"matters.budget:{matter.pk}:80"]
    assert _budget_tasks(matter).filter(status=TaskStatus.OPEN).count() == 1


def test_scope_reduction_credit_lowers_the_budget_with_its_reason(users, now):
    partner = users["PARTNER"]
    matter = cf.matter(partner=partner)
    matters.matter_budget_set(
        matter=matter,
        kind="ESTIMATE",
        amount_cents=1_000_000,
        reason="Estimate",
        actor=partner,
        now=now,
    )
    invoice = cf.invoice(matter_obj=matter, cents=200_000)
    note = credits.credit_note_request(
        invoice=invoice,
        reason_code="SCOPE_REDUCTION",
        reason_text="No RFE response needed",
        amount_cents=30_000,
        actor=users["BILLING"],
        now=now,
    )
    if note.status != "ISSUED":
        credits.credit_note_approve(credit_note=note, approver=partner, now=now)
    matter.refresh_from_db()
    assert matter.budget_cents == 970_000
    change = BudgetChange.objects.filter(matter=matter).order_by("-id").first()
    assert change.reason == "No RFE response needed"
    note.refresh_from_db()
    assert change.source == f"credit note {note.number}"


# Waiting on me ------------------------------------------------------------------------------


def test_waiting_page_lists_what_waits_with_links_and_home_counts(users, login, now):
    world = build_world(users, now)
    draft = billing.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=now, template=world.template
    )
    billing.invoice_submit(invoice=draft, actor=world.billing, now=now)
    invoice = cf.invoice(matter_obj=world.matter, cents=900_000)
    note = credits.credit_note_request(
        invoice=invoice,
        reason_code="COURTESY_DISCOUNT",
        amount_cents=60_000,
        actor=users["BILLING"],
        now=now,
    )
    http = login(world.partner)
    html = http.get(reverse("core:waiting")).content.decode()
    assert reverse("billing:invoice_detail", args=[draft.pk]) in html
    assert reverse("credits:credit_note_detail", args=[note.pk]) in html
    assert "Invoices to review" in html
    assert "Credit notes to approve" in html
    home = http.get(reverse("core:home")).content.decode()
    assert 'data-panel="core.waiting"' in home
    assert "Credit notes to approve" in home
    # The requester does not approve their own credit note: not waiting on billing.
    billing_html = login(users["BILLING"]).get(reverse("core:waiting")).content.decode()
    assert "Credit notes to approve" not in billing_html


def test_waiting_page_is_empty_but_fine_for_a_paralegal(users, login):
    response = login(users["PARALEGAL"]).get(reverse("core:waiting"))
    assert response.status_code == 200
    assert "Nothing is waiting on you." in response.content.decode()


# Registry -----------------------------------------------------------------------------------


def test_panel_registry_orders_by_order_and_filters_by_page():
    matter_keys = [p.key for p in page_panels("matter")]
    client_keys = [p.key for p in page_panels("client")]
    assert matter_keys[0] == "trust.balances"
    assert "payments.budget" in matter_keys
    assert "payments.budget" not in client_keys
    with pytest.raises(ValueError, match="unknown page"):
        page_panels("invoice")


# Open matter: the case type starts blank ------------------------------------------------------


def test_open_matter_case_type_starts_blank_and_is_required(users, login):
    from caseledger.clients.tests.factories import make_company
    from caseledger.matters.forms import CASE_TYPE_REQUIRED

    client = make_company()
    http = login(users["PARTNER"])
    url = reverse("matters:create") + f"?client={client.pk}"
    html = http.get(url).content.decode()
    assert '<option value="" selected>— choose a case type —</option>' in html
    response = http.post(url, {"title": "x"})
    assert response.status_code == 200
    html = response.content.decode()
    # Under the field, without its "Case type:" prefix (the label says it).
    block = re.search(r'<ul class="errorlist" id="id_case_type-errors">(.*?)</ul>', html, re.S)
    assert block is not None
    assert error_text(CASE_TYPE_REQUIRED, "case_type", "Case type") in block.group(1)
    assert not client.matters.exists()


def test_budget_refuses_an_absurd_amount_without_failing(users, login):
    matter = make_matter()
    http = login(users["PARTNER"])
    response = http.post(
        reverse("matters:budget", args=[matter.pk]),
        {"budget_kind": "ESTIMATE", "budget": "99,999,999,999,999,999.00", "reason": "typo"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    block = re.search(r'<ul class="errorlist" id="id_budget-errors">(.*?)</ul>', html, re.S)
    assert block is not None
    # the parser's absolute limit, under the field without its internal prefix
    assert "must not exceed 100,000,000,000.00 in absolute value" in block.group(1)
    assert "budget: " not in block.group(1)
    response = http.post(
        reverse("matters:budget", args=[matter.pk]),
        {"budget_kind": "ESTIMATE", "budget": "2,000,000,000.00", "reason": "typo"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    block = re.search(r'<ul class="errorlist" id="id_budget-errors">(.*?)</ul>', html, re.S)
    assert block is not None
    # the service's own limit for a budget, under the field
    assert "at most $1,000,000,000.00 (got $2,000,000,000.00)" in block.group(1)
    assert "budget: at most" not in html
    matter.refresh_from_db()
    assert matter.budget_cents is None


def test_budget_can_be_removed_with_a_reason(users, now):
    matter = make_matter()
    partner = users["PARTNER"]
    matters.matter_budget_set(
        matter=matter,
        kind="ESTIMATE",
        amount_cents=50_000,
        reason="Estimate",
        actor=partner,
        now=now,
    )
    matters.matter_budget_set(
        matter=matter, kind="", amount_cents=None, reason="Client cancelled", actor=partner, now=now
    )
    matter.refresh_from_db()
    assert (matter.budget_kind, matter.budget_cents) == ("", None)
    last = BudgetChange.objects.filter(matter=matter).order_by("-id").first()
    assert (last.before_cents, last.after_cents, last.reason) == (50_000, None, "Client cancelled")
    # Setting the same budget again changes nothing and records nothing.
    matters.matter_budget_set(
        matter=matter, kind="", amount_cents=None, reason="again", actor=partner, now=now
    )
    assert BudgetChange.objects.filter(matter=matter).count() == 2
