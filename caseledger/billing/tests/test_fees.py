"""The shipped government fee schedule: the fee in force on each effective date, for each kind of
employer and filing method; the filing date (not the draft date) decides it; payer rules attach
to fee codes whatever a line's category; the Government fees page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.urls import reverse

from caseledger.billing import services
from caseledger.billing.choices import FeeCategory, FeePath, LineKind, Payer
from caseledger.billing.exceptions import BillingError, PayerRuleViolation
from caseledger.billing.fees import FEE_SCHEDULE, fee_schedule_load, government_fee_resolve
from caseledger.billing.models import FeePayerRule, GovernmentFee
from caseledger.billing.tests.factories import advance_fees
from caseledger.matters.models import CaseType

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(world: Any) -> Any:
    GovernmentFee.objects.all().delete()  # the world's own rows: the shipped schedule instead
    fee_schedule_load(now=world.now)
    return world


def _amount(
    code: str, on: date, *, ct: str = "h1b_cap", client: Any = None, method: str = "PAPER"
) -> int | None:
    case_type = CaseType.objects.get(code=ct)
    fee = government_fee_resolve(
        case_type_id=case_type.pk, code=code, on=on, client=client, filing_method=method
    ).fee
    return None if fee is None else fee.amount_cents


def test_every_row_cites_its_source() -> None:
    assert all(row.citation for row in FEE_SCHEDULE)


@pytest.mark.parametrize(
    ("code", "ct", "day", "cents"),
    [
        ("I129", "h1b_cap", date(2016, 12, 22), None),
        ("I129", "h1b_cap", date(2016, 12, 23), 46_000),
        ("I129", "h1b_cap", date(2024, 3, 31), 46_000),
        ("I129", "h1b_cap", date(2024, 4, 1), 78_000),
        ("I129", "l1", date(2024, 4, 1), 138_500),
        ("I129", "o1", date(2024, 4, 1), 105_500),
        ("I140", "i140", date(2024, 3, 31), 70_000),
        ("I140", "i140", date(2024, 4, 1), 71_500),
        ("I485", "i485", date(2024, 4, 1), 144_000),
        ("BIOMETRICS", "i485", date(2024, 3, 31), 8_500),
        ("BIOMETRICS", "i485", date(2024, 4, 1), 0),
        ("I765", "i485", date(2024, 4, 1), 26_000),
        ("I131", "i485", date(2024, 4, 1), 63_000),
        ("I131", "i131", date(2024, 4, 1), 63_000),
        ("I129F", "k1", date(2024, 4, 1), 67_500),
        ("I751", "i751", date(2024, 4, 1), 75_000),
        ("IMMIGRANT_FEE", "consular_processing", date(2024, 3, 31), 22_000),
        ("IMMIGRANT_FEE", "consular_processing", date(2024, 4, 1), 23_500),
        ("ASYLUM_PROGRAM", "h1b_cap", date(2024, 3, 31), None),
        ("ASYLUM_PROGRAM", "i140", date(2024, 4, 1), 60_000),
        ("FRAUD", "h1b_cap", date(2005, 3, 8), 50_000),
        ("FRAUD", "h1b_extension", date(2024, 4, 1), 0),
        ("FRAUD", "l1", date(2024, 4, 1), 50_000),
        ("ACWIA", "h1b_cap", date(2004, 12, 8), 150_000),
        ("PREMIUM", "h1b_cap", date(2024, 2, 25), 250_000),
        ("PREMIUM", "h1b_cap", date(2024, 2, 26), 280_500),
        ("PREMIUM", "i140", date(2026, 2, 28), 280_500),
        ("PREMIUM", "i140", date(2026, 3, 1), 296_500),
        ("H1B_PROCLAMATION", "h1b_cap", date(2025, 9, 20), None),
        ("H1B_PROCLAMATION", "h1b_cap", date(2025, 9, 21), 10_000_000),
        ("H1B_PROCLAMATION", "h1b_extension", date(2025, 9, 21), None),
    ],
)
def test_fee_in_force_on_each_effective_date(
    schedule: Any, code: str, ct: str, day: date, cents: int | None
) -> None:
    assert _amount(code, day, ct=ct) == cents


@pytest.mark.parametrize(
    ("code", "ct", "paper", "online"),
    [
        ("I130", "i130", 67_500, 62_500),
        ("I765", "i765", 52_000, 47_000),
        ("I539", "i539", 47_000, 42_000),
        ("N400", "n400", 76_000, 71_000),
        ("I90", "i90", 46_500, 41_500),
    ],
)
def test_online_and_paper_fees(schedule: Any, code: str, ct: str, paper: int, online: int) -> None:
    assert _amount(code, date(2024, 4, 1), ct=ct, method="PAPER") == paper
    assert _amount(code, date(2024, 4, 1), ct=ct, method="ONLINE") == online
    assert _amount(code, date(2024, 3, 31), ct=ct, method="ONLINE") not in {paper, online}


def test_employer_attributes_choose_acwia_i129_and_asylum_program_fee(schedule: Any) -> None:
    company = schedule.matter.client
    day = date(2026, 5, 1)
    company.employee_band = "OVER_25"
    assert [_amount(c, day, client=company) for c in ("ACWIA", "I129", "ASYLUM_PROGRAM")] == [
        150_000,
        78_000,
        60_000,
    ]
    company.employee_band = "UP_TO_25"
    assert [_amount(c, day, client=company) for c in ("ACWIA", "I129", "ASYLUM_PROGRAM")] == [
        75_000,
        46_000,
        30_000,
    ]
    company.employee_band, company.nonprofit = "OVER_25", True
    assert [_amount(c, day, client=company) for c in ("ACWIA", "I129", "ASYLUM_PROGRAM")] == [
        150_000,  # a 501(c)(3) alone is not ACWIA-exempt
        46_000,
        0,
    ]
    company.acwia_exemption = "HIGHER_EDUCATION"
    resolution = government_fee_resolve(
        case_type_id=schedule.matter.case_type_id, code="ACWIA", on=day, client=company
    )
    assert resolution.fee is None
    assert "exempt (institution of higher education" in resolution.reason


def test_a_draft_before_a_fee_change_for_a_filing_after_it_gets_the_new_fee(
    schedule: Any,
) -> None:
    template = services.template_create(
        service=schedule.h1b_service,
        name="H-1B with premium",
        lines=[{"description": "Legal fee", "amount": "100"}],
        government_fee_codes=["PREMIUM"],
        actor=schedule.partner,
        now=schedule.now,
    )
    drafted = datetime(2026, 2, 20, 15, 0, tzinfo=UTC)
    invoice = services.invoice_draft_create(
        matter=schedule.matter, actor=schedule.billing, now=drafted, template=template
    )
    line = invoice.lines.get(fee_code="PREMIUM")
    assert (invoice.filing_date, line.amount_cents, line.fee_note) == (
        date(2026, 2, 20),
        280_500,
        "",
    )
    services.invoice_filing_date_set(
        invoice=invoice, filing_date=date(2026, 3, 2), actor=schedule.billing, now=drafted
    )
    line.refresh_from_db()
    invoice.refresh_from_db()
    assert line.amount_cents == 296_500
    assert invoice.total_cents == 10_000 + 296_500
    assert line.fee_note.startswith(
        "Fee in force on the filing date 2026-03-02: $2,965.00 (the fee on the draft date "
        "2026-02-20 was $2,805.00; Adjustment to Premium Processing Fees, 91 FR 1059"
    )
    services.invoice_filing_date_set(
        invoice=invoice, filing_date=date(2026, 2, 27), actor=schedule.billing, now=drafted
    )
    line.refresh_from_db()
    assert (line.amount_cents, line.fee_note) == (280_500, "")


def test_filing_date_changes_only_on_a_draft(schedule: Any) -> None:
    invoice = services.invoice_draft_create(
        matter=schedule.matter, actor=schedule.billing, now=schedule.now, template=schedule.template
    )
    services.invoice_submit(invoice=invoice, actor=schedule.billing, now=schedule.now)
    with pytest.raises(BillingError, match=r"^filing_date: invoice Draft #\d+ is in review"):
        services.invoice_filing_date_set(
            invoice=invoice, filing_date=date(2026, 12, 1), actor=schedule.billing, now=schedule.now
        )


RESTRICTED = ["ACWIA", "FRAUD", "H1B_PROCLAMATION"]


@pytest.mark.parametrize("code", RESTRICTED)
def test_beneficiary_never_pays_a_restricted_fee_whatever_its_category(
    world: Any, code: str
) -> None:
    rule = FeePayerRule.objects.get(fee_code=code)
    assert "655.731" in rule.citation or "Proclamation" in rule.citation
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, bill_to=Payer.BENEFICIARY
    )
    for category in (FeeCategory.OPTIONAL_GOVERNMENT_FEE, FeeCategory.DEPENDENT_FEE):
        with pytest.raises(
            PayerRuleViolation, match=rf"^bill_to: the {code} fee may never be billed"
        ):
            services.invoice_line_add(
                invoice=invoice,
                description="Government fee",
                unit_price="500",
                kind=LineKind.GOVERNMENT_FEE,
                category=category,
                fee_code=code,
                actor=world.billing,
                now=world.now,
            )
    assert not invoice.lines.exists()


@pytest.mark.parametrize(
    ("description", "code"),
    [
        ("ACWIA training fee (re-billed)", "ACWIA"),
        ("Fraud prevention and detection fee", "FRAUD"),
        ("H-1B proclamation payment", "H1B_PROCLAMATION"),
    ],
)
def test_a_manual_line_named_after_a_restricted_fee_is_refused(
    world: Any, description: str, code: str
) -> None:
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, bill_to=Payer.BENEFICIARY
    )
    with pytest.raises(PayerRuleViolation, match=rf"the {code} fee may never be billed"):
        services.invoice_line_add(
            invoice=invoice,
            description=description,
            unit_price="750",
            kind=LineKind.FEE,
            category=FeeCategory.DEPENDENT_FEE,  # a category the beneficiary may pay
            actor=world.billing,
            now=world.now,
        )


def test_an_uncoded_government_fee_line_goes_to_the_petitioner_only(world: Any) -> None:
    matter = world.new_matter(case_type_code="i130")
    to_beneficiary = services.invoice_draft_create(
        matter=matter, actor=world.billing, now=world.now, bill_to=Payer.BENEFICIARY
    )
    with pytest.raises(PayerRuleViolation, match=r"must name its fee code or service"):
        services.invoice_line_add(
            invoice=to_beneficiary,
            description="USCIS filing fee",
            unit_price="675",
            kind=LineKind.GOVERNMENT_FEE,
            actor=world.billing,
            now=world.now,
        )
    coded = services.invoice_line_add(
        invoice=to_beneficiary,
        description="USCIS I-130 filing fee",
        unit_price="675",
        kind=LineKind.GOVERNMENT_FEE,
        fee_code="i130",
        actor=world.billing,
        now=world.now,
    )
    assert (coded.fee_code, coded.fee_path) == ("I130", FeePath.FIRM_ADVANCE)
    to_petitioner = services.invoice_draft_create(matter=matter, actor=world.billing, now=world.now)
    services.invoice_line_add(
        invoice=to_petitioner,
        description="USCIS filing fee",
        unit_price="675",
        kind=LineKind.GOVERNMENT_FEE,
        actor=world.billing,
        now=world.now,
    )


def test_a_payer_rule_on_a_service(world: Any) -> None:
    FeePayerRule.objects.create(
        service=world.h4_service, beneficiary_may_pay=False, citation="Firm policy: employer pays"
    )
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, bill_to=Payer.BENEFICIARY
    )
    with pytest.raises(PayerRuleViolation, match=r"\(Firm policy: employer pays\)"):
        services.invoice_line_add(
            invoice=invoice,
            description="H-4 application",
            unit_price="750",
            category=FeeCategory.DEPENDENT_FEE,
            service=world.h4_service,
            actor=world.billing,
            now=world.now,
        )


def test_government_fees_page_lists_advances_and_drafts_waiting(
    world: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    waiting = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    other = world.new_matter()
    services.fee_advance_record(
        matter=other,
        fee_code="I129",
        amount="780.00",
        paid_date=date(2026, 10, 2),
        method="CHECK",
        reference="1051",
        actor=world.billing,
        now=world.now,
    )
    client = login(world.billing)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("billing:government_fees")).content.decode()
    assert "FA-" in page
    assert "1051" in page
    assert f"Draft #{waiting.pk}" in page
    assert "$2,780.00" in page  # I-129 + ACWIA + fraud fee waiting for their advances
    response = client.post(
        reverse("billing:government_fees"),
        {
            "matter": str(world.matter.pk),
            "fee_code": "ACWIA",
            "amount": "1,500.00",
            "paid_date": "2026-10-03",
            "method": "CARD",
            "reference": "",
        },
        follow=True,
    )
    assert "recorded." in response.content.decode()
    advance_fees(waiting, actor=world.billing, now=world.now)
    page = client.get(reverse("billing:government_fees")).content.decode()
    assert "No draft waits for a fee advance." in page


def test_draft_and_review_queue_say_issue_waits_for_the_fee_advance(world: Any, login: Any) -> None:
    draft = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=draft, actor=world.billing, now=world.now)
    client = login(world.partner)
    queue = client.get(reverse("billing:review_queue") + "?all=1").content.decode()
    row = queue[queue.index(f"Draft #{draft.pk}") :].split("</tr>")[0]
    assert "Fee advance needed" in row
    page = client.get(reverse("billing:invoice_detail", args=[draft.pk])).content.decode()
    assert 'id="fee-advance-needed"' in page
    assert "Issuing waits for the firm's advance of these government fees" in page
    assert "ACWIA" in page
    advance_fees(draft, actor=world.billing, now=world.now)
    queue = client.get(reverse("billing:review_queue") + "?all=1").content.decode()
    row = queue[queue.index(f"Draft #{draft.pk}") :].split("</tr>")[0]
    assert "Fee advance needed" not in row
    page = client.get(reverse("billing:invoice_detail", args=[draft.pk])).content.decode()
    assert 'id="fee-advance-needed"' not in page
