"""Matter facts the government fees read: the ACWIA fee is not due on a second or later
extension of stay by the same employer, and the H-1B proclamation payment joins a filing
invoice when the beneficiary is outside the U.S. (or notification is requested)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from caseledger.billing import services
from caseledger.billing.fees import fee_schedule_load, government_fee_resolve
from caseledger.billing.models import GovernmentFee
from caseledger.core.exceptions import ApplicationError
from caseledger.matters import services as matter_services
from caseledger.matters.tests.factories import case_type

pytestmark = pytest.mark.django_db

DRAFTED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
# Before Proclamation 10973's stated expiry (Sept. 21, 2026; test_fee_expiry covers after it).
DRAFTED_IN_TERM = datetime(2026, 8, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def schedule(world: Any) -> Any:
    GovernmentFee.objects.all().delete()  # the shipped schedule instead of the world's rows
    fee_schedule_load(now=world.now)
    world.client = world.matter.client
    world.client.employee_band = "OVER_25"
    world.client.save(update_fields=["employee_band"])
    return world


def _template(world: Any, codes: list[str]) -> Any:
    return services.template_create(
        service=world.h1b_service,
        name=f"Filing {'-'.join(codes)}",
        lines=[{"description": "Legal fee", "amount": "100"}],
        government_fee_codes=codes,
        actor=world.partner,
        now=world.now,
    )


def _codes(invoice: Any) -> dict[str, int]:
    return dict(
        invoice.lines.exclude(fee_code="")
        .order_by("position")
        .values_list("fee_code", "amount_cents")
    )


def _extension(world: Any, prior: int) -> Any:
    matter = world.new_matter(
        client=world.client,
        beneficiary=world.matter.beneficiary,
        case_type=case_type("h1b_extension"),
    )
    return matter_services.matter_update(
        matter=matter, actor=world.partner, now=world.now, employer_prior_extensions=prior
    )


def test_acwia_is_due_on_the_first_extension_and_not_on_the_second(schedule: Any) -> None:
    template = _template(schedule, ["I129", "ACWIA", "FRAUD"])
    first = _extension(schedule, prior=0)
    invoice = services.invoice_draft_create(
        matter=first, actor=schedule.billing, now=DRAFTED, template=template
    )
    assert _codes(invoice) == {"I129": 78_000, "ACWIA": 150_000}  # no fraud fee on extensions

    second = _extension(schedule, prior=1)
    invoice = services.invoice_draft_create(
        matter=second, actor=schedule.billing, now=DRAFTED, template=template
    )
    assert _codes(invoice) == {"I129": 78_000}
    resolution = government_fee_resolve(
        case_type_id=second.case_type_id,
        code="ACWIA",
        on=date(2026, 11, 2),
        client=schedule.client,
        matter=second,
    )
    assert resolution.fee is None
    assert resolution.reason.startswith(
        f"ACWIA fee not due: {schedule.client.name} already obtained 1 extension of stay"
    )
    assert "INA 214(c)(9)(A)(ii)" in resolution.reason
    assert "8 CFR 214.2(h)(19)(v)" in resolution.reason


def test_prior_extensions_do_not_exempt_a_new_petition_or_transfer(schedule: Any) -> None:
    matter = matter_services.matter_update(
        matter=schedule.matter,
        actor=schedule.partner,
        now=schedule.now,
        employer_prior_extensions=2,
    )
    for ct in ("h1b_cap", "h1b_transfer"):
        resolution = government_fee_resolve(
            case_type_id=case_type(ct).pk,
            code="ACWIA",
            on=date(2026, 11, 2),
            client=schedule.client,
            matter=matter,
        )
        assert resolution.fee is not None
        assert resolution.fee.amount_cents == 150_000


def test_proclamation_payment_joins_the_draft_when_the_beneficiary_is_outside(
    schedule: Any,
) -> None:
    template = _template(schedule, ["I129", "ACWIA", "FRAUD"])
    inside = services.invoice_draft_create(
        matter=schedule.matter, actor=schedule.billing, now=DRAFTED_IN_TERM, template=template
    )
    assert "H1B_PROCLAMATION" not in _codes(inside)

    for location in ("OUTSIDE_US", "NOTIFICATION"):
        matter = matter_services.matter_update(
            matter=schedule.matter,
            actor=schedule.partner,
            now=schedule.now,
            beneficiary_location=location,
        )
        invoice = services.invoice_draft_create(
            matter=matter, actor=schedule.billing, now=DRAFTED_IN_TERM, template=template
        )
        line = invoice.lines.get(fee_code="H1B_PROCLAMATION")
        # Shown at its amount for information: the employer pays it on pay.gov, nothing is due.
        assert (line.fee_amount_cents, line.amount_cents, line.fee_path, line.category) == (
            10_000_000,
            0,
            "CLIENT_DIRECT",
            "REQUIRED_GOVERNMENT_FEE",
        )
        assert "Proclamation 10973" in line.government_fee.citation
        assert invoice.total_cents == 10_000 + 78_000 + 150_000 + 50_000

    # A filing sent before 12:01 a.m. EDT Sept. 21, 2025 owes no payment: re-dating drops it,
    # re-dating after the proclamation brings it back.
    services.invoice_filing_date_set(
        invoice=invoice, filing_date=date(2025, 9, 20), actor=schedule.billing, now=DRAFTED_IN_TERM
    )
    assert "H1B_PROCLAMATION" not in _codes(invoice)
    services.invoice_filing_date_set(
        invoice=invoice, filing_date=date(2025, 9, 21), actor=schedule.billing, now=DRAFTED_IN_TERM
    )
    assert _codes(invoice)["H1B_PROCLAMATION"] == 0  # shown, paid by the employer on pay.gov


def test_no_proclamation_payment_on_an_extension_or_a_bill_without_government_fees(
    schedule: Any,
) -> None:
    extension = _extension(schedule, prior=0)
    extension = matter_services.matter_update(
        matter=extension,
        actor=schedule.partner,
        now=schedule.now,
        beneficiary_location="OUTSIDE_US",
    )
    invoice = services.invoice_draft_create(
        matter=extension,
        actor=schedule.billing,
        now=DRAFTED,
        template=_template(schedule, ["I129", "ACWIA"]),
    )
    assert "H1B_PROCLAMATION" not in _codes(invoice)  # the schedule has none for extensions
    fees_only = services.invoice_draft_create(
        matter=extension, actor=schedule.billing, now=DRAFTED, template=_template(schedule, [])
    )
    assert _codes(fees_only) == {}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"beneficiary_location": "MARS"}, "beneficiary_location: must be one of IN_US, "),
        ({"employer_prior_extensions": 21}, "employer_prior_extensions: the number of "),
    ],
)
def test_fee_facts_are_checked(schedule: Any, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ApplicationError) as exc:
        matter_services.matter_update(
            matter=schedule.matter, actor=schedule.partner, now=schedule.now, **changes
        )
    assert exc.value.message.startswith(message)
