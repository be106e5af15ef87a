"""Proclamation 10973's H-1B payment has a stated end: "12 months after the effective date"
(12:01 a.m. EDT Sept. 21, 2025), "absent extension". The schedule row carries that expiry; a
filing dated on or after it gets no payment unless a partner records an extension (a fee-schedule
row citing the extending instrument, audited); drafts near or after it, with no extension
recorded, show a notice on the draft and in the partner's review queue."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.urls import reverse

from caseledger.billing import services
from caseledger.billing.exceptions import BillingError
from caseledger.billing.fees import (
    PROCLAMATION_CODE,
    PROCLAMATION_EXPIRES,
    fee_schedule_load,
    government_fee_resolve,
    invoice_expiry_notices,
)
from caseledger.billing.models import GovernmentFee
from caseledger.core.models import AuditEvent
from caseledger.matters import services as matter_services
from caseledger.matters.tests.factories import case_type

pytestmark = pytest.mark.django_db

NOTICE = (
    "Proclamation 10973 stated expiry Sept. 21, 2026 — confirm whether it was extended before "
    "issuing"
)
IN_TERM = datetime(2026, 8, 3, 15, 0, tzinfo=UTC)  # 49 days before the expiry: no notice
NEAR = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)  # 20 days before: paid, with the notice
AFTER = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
# A test stand-in for the instrument a firm would cite when the proclamation is extended.
EXTENSION_CITE = "Extending proclamation (test instrument), sec. 1: extended to Sept. 21, 2027"


@pytest.fixture
def outside(world: Any) -> Any:
    """The shipped schedule, a large employer, and an H-1B cap matter whose beneficiary is
    outside the U.S. without a valid H-1B visa."""
    GovernmentFee.objects.all().delete()
    fee_schedule_load(now=world.now)
    world.client = world.matter.client
    world.client.employee_band = "OVER_25"
    world.client.save(update_fields=["employee_band"])
    world.matter = matter_services.matter_update(
        matter=world.matter, actor=world.partner, now=world.now, beneficiary_location="OUTSIDE_US"
    )
    world.template = services.template_create(
        service=world.h1b_service,
        name="H-1B filing (proclamation term)",
        lines=[{"description": "Legal fee", "amount": "100"}],
        government_fee_codes=["I129", "ACWIA", "FRAUD"],
        actor=world.partner,
        now=world.now,
    )
    return world


def _draft(world: Any, when: datetime) -> Any:
    return services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=when, template=world.template
    )


def _codes(invoice: Any) -> dict[str, int]:
    return dict(invoice.lines.exclude(fee_code="").values_list("fee_code", "amount_cents"))


def _shown(invoice: Any) -> int:
    """The proclamation payment's amount as the draft shows it; the employer pays it on pay.gov,
    so the line is for information (CLIENT_DIRECT) and nothing of it is due to the firm."""
    line = invoice.lines.get(fee_code=PROCLAMATION_CODE)
    assert (line.fee_path, line.amount_cents) == ("CLIENT_DIRECT", 0)
    return int(line.fee_amount_cents)


def test_the_schedule_row_carries_the_stated_expiry_with_its_citation(outside: Any) -> None:
    rows = GovernmentFee.objects.filter(code=PROCLAMATION_CODE)
    assert rows.count() == 2  # h1b_cap and h1b_transfer
    for row in rows:
        assert (row.effective_date, row.expires_on) == (date(2025, 9, 21), date(2026, 9, 21))
        assert row.expiry_citation.startswith("Proclamation 10973 sec. 1(a)-(b)")
        assert "12 months after the effective date" in row.expiry_citation
    assert PROCLAMATION_EXPIRES == date(2026, 9, 21)


def test_before_the_expiry_the_payment_is_added(outside: Any) -> None:
    invoice = _draft(outside, IN_TERM)
    assert _shown(invoice) == 10_000_000
    assert invoice_expiry_notices(invoice) == []

    near = _draft(outside, NEAR)  # still in force, but the draft may be filed after it
    assert _shown(near) == 10_000_000
    assert invoice_expiry_notices(near) == [NOTICE]
    last_day = government_fee_resolve(
        case_type_id=case_type("h1b_cap").pk, code=PROCLAMATION_CODE, on=date(2026, 9, 20)
    )
    assert last_day.fee is not None
    assert last_day.fee.amount_cents == 10_000_000


def test_after_the_expiry_without_an_extension_no_payment_and_a_notice(
    outside: Any, login: Any
) -> None:
    invoice = _draft(outside, AFTER)
    assert PROCLAMATION_CODE not in _codes(invoice)
    assert invoice.total_cents == 10_000 + 78_000 + 150_000 + 50_000
    [notice] = invoice_expiry_notices(invoice)
    assert notice.startswith(NOTICE)
    assert "until a partner records the extension" in notice
    resolution = government_fee_resolve(
        case_type_id=case_type("h1b_cap").pk, code=PROCLAMATION_CODE, on=date(2026, 9, 21)
    )
    assert resolution.fee is None
    assert "stated expiry Sept. 21, 2026" in resolution.reason
    assert "Proclamation 10973 sec. 1(a)-(b)" in resolution.reason

    # The draft and the partner's review queue both say so.
    page = login(outside.partner).get(reverse("billing:invoice_detail", args=[invoice.pk]))
    assert NOTICE in page.content.decode()
    services.invoice_submit(invoice=invoice, actor=outside.billing, now=AFTER)
    queue = login(outside.partner).get(reverse("billing:review_queue") + "?all=1")
    html = queue.content.decode()
    row = html[html.index(f">Draft #{invoice.pk}</a>") :]
    assert NOTICE in row[: row.index("</tr>")]


def test_re_dating_a_draft_past_the_expiry_drops_the_payment(outside: Any) -> None:
    invoice = _draft(outside, NEAR)
    assert PROCLAMATION_CODE in _codes(invoice)
    services.invoice_filing_date_set(
        invoice=invoice, filing_date=date(2026, 9, 21), actor=outside.billing, now=NEAR
    )
    assert PROCLAMATION_CODE not in _codes(invoice)
    assert invoice_expiry_notices(invoice)[0].startswith(NOTICE)
    services.invoice_filing_date_set(
        invoice=invoice, filing_date=date(2026, 9, 18), actor=outside.billing, now=NEAR
    )
    assert _shown(invoice) == 10_000_000


def test_an_extension_needs_the_extending_instrument(outside: Any) -> None:
    with pytest.raises(BillingError) as refused:
        services.government_fee_add(
            case_type=case_type("h1b_cap"),
            code=PROCLAMATION_CODE,
            name="H-1B proclamation payment (beneficiary outside the U.S.)",
            amount="100000",
            effective_date=date(2026, 9, 21),
            actor=outside.partner,
            now=AFTER,
        )
    assert refused.value.field == "citation"
    assert "stated expiry 2026-09-21" in refused.value.message
    assert not GovernmentFee.objects.filter(effective_date=date(2026, 9, 21)).exists()


def test_after_the_expiry_with_a_recorded_extension_the_payment_cites_it(outside: Any) -> None:
    extension = services.government_fee_add(
        case_type=case_type("h1b_cap"),
        code=PROCLAMATION_CODE,
        name="H-1B proclamation payment (beneficiary outside the U.S.)",
        amount="100000",
        effective_date=date(2026, 9, 21),
        citation=EXTENSION_CITE,
        expires_on=date(2027, 9, 21),
        expiry_citation=EXTENSION_CITE,
        actor=outside.partner,
        now=AFTER,
    )
    event = AuditEvent.objects.get(action="billing.government_fee_set", object_id=str(extension.pk))
    assert event.after["citation"] == EXTENSION_CITE
    assert event.after["extends"] is not None

    invoice = _draft(outside, AFTER)
    line = invoice.lines.get(fee_code=PROCLAMATION_CODE)
    assert (line.fee_amount_cents, line.amount_cents) == (10_000_000, 0)
    assert line.government_fee_id == extension.pk
    assert line.government_fee.citation == EXTENSION_CITE
    assert invoice_expiry_notices(invoice) == []  # the extension is recorded


def test_the_migration_gives_rows_loaded_earlier_the_stated_expiry(outside: Any) -> None:
    from django.apps import apps

    migration = importlib.import_module(
        "caseledger.billing.migrations.0013_government_fee_stated_expiry"
    )
    GovernmentFee.objects.filter(code=PROCLAMATION_CODE).update(expires_on=None, expiry_citation="")
    assert _shown(_draft(outside, AFTER)) == 10_000_000  # the old behaviour
    migration.stated_expiry(apps, None)
    assert set(
        GovernmentFee.objects.filter(code=PROCLAMATION_CODE).values_list("expires_on", flat=True)
    ) == {date(2026, 9, 21)}
    assert PROCLAMATION_CODE not in _codes(_draft(outside, AFTER))


def test_a_partner_records_the_extension_on_the_fee_schedule_page(outside: Any, login: Any) -> None:
    http = login(outside.partner)
    url = reverse("billing:fee_schedule")
    form = {
        "form": "fee",
        "fee-case_type": case_type("h1b_cap").pk,
        "fee-code": PROCLAMATION_CODE,
        "fee-name": "H-1B proclamation payment (beneficiary outside the U.S.)",
        "fee-amount": "100000",
        "fee-effective_date": "2026-09-21",
        "fee-category": "REQUIRED_GOVERNMENT_FEE",
        "fee-expense_code": "E123",
    }
    refused = http.post(url, form)
    assert refused.status_code == 200
    assert "must cite the instrument that extends it" in refused.content.decode()
    saved = http.post(url, {**form, "fee-citation": EXTENSION_CITE})
    assert saved.status_code == 302
    row = GovernmentFee.objects.get(code=PROCLAMATION_CODE, effective_date=date(2026, 9, 21))
    assert row.citation == EXTENSION_CITE
