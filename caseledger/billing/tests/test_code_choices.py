"""UTBMS codes on the fee schedule (services, government fees) and on draft lines are chosen
from the shipped code sets (billing.utbms); a value outside them (a phase, a made-up code) sent
anyway is refused by the service with a message naming the field, and nothing is written."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from caseledger.billing import forms, utbms
from caseledger.billing.models import GovernmentFee, Invoice, Service

pytestmark = pytest.mark.django_db


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, f"{name} is not a select"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def _field_errors(response: Any, auto_id: str) -> str:
    found = re.search(rf'id="{auto_id}-errors">(.*?)</ul>', response.content.decode(), re.S)
    assert found is not None, f"no errors under {auto_id}"
    return found.group(1)


def test_code_fields_are_selects_of_the_shipped_sets() -> None:
    line = forms.LineForm().as_p()
    assert _options(line, "task_code") == ["", *utbms.LITIGATION_TASKS]
    assert _options(line, "activity_code") == ["", *utbms.ACTIVITIES]
    assert _options(line, "expense_code") == ["", *utbms.EXPENSES]
    assert "L100" not in _options(line, "task_code")  # a phase is a group label, not a choice
    service = forms.ServiceForm(prefix="svc").as_p()
    assert _options(service, "svc-utbms_task_code") == ["", *utbms.LITIGATION_TASKS]
    assert _options(service, "svc-utbms_activity_code") == ["", *utbms.ACTIVITIES]
    fee = forms.GovernmentFeeForm(prefix="fee").as_p()
    assert _options(fee, "fee-expense_code") == list(utbms.EXPENSES)
    assert 'value="E112" selected' in fee


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("task_code", "L100", "task_code: L100 is a UTBMS phase, not a task"),
        ("task_code", "X999", "task_code: must be a UTBMS task code such as L120"),
        ("activity_code", "A199", "activity_code: must be a UTBMS activity code"),
        ("expense_code", "E999", "expense_code: must be a UTBMS expense code"),
    ],
)
def test_a_line_with_a_code_outside_the_set_is_refused(
    world: Any, login: Any, field: str, value: str, message: str
) -> None:
    from caseledger.billing import services

    invoice = services.invoice_draft_create(matter=world.matter, actor=world.billing, now=world.now)
    data = {
        "description": "Drafting",
        "kind": "FEE",
        "category": "ATTORNEY_FEE",
        "quantity": "1",
        "unit_price": "100",
        field: value,
    }
    response = login(world.billing).post(
        reverse("billing:invoice_line_add", args=[invoice.pk]), data, follow=True
    )
    # The service's message, shown under the field it names.
    assert message.removeprefix(f"{field}: ") in _field_errors(response, f"id_{field}")
    assert not Invoice.objects.get(pk=invoice.pk).lines.exists()
    good = {**data, field: {"task_code": "L120", "activity_code": "A103"}.get(field, "E112")}
    login(world.billing).post(reverse("billing:invoice_line_add", args=[invoice.pk]), good)
    assert getattr(Invoice.objects.get(pk=invoice.pk).lines.get(), f"utbms_{field}") == good[field]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"svc-utbms_task_code": "L200"}, "utbms_task_code: must be a UTBMS task code such as "),
        ({"svc-utbms_activity_code": "B110"}, "utbms_activity_code: must be a UTBMS activity"),
    ],
)
def test_a_service_with_a_code_outside_the_set_is_refused(
    world: Any, login: Any, data: dict[str, str], message: str
) -> None:
    post = {
        "form": "service",
        "svc-code": "RFE2",
        "svc-name": "RFE response (complex)",
        "svc-fee_type": "FLAT",
        "svc-default_price": "1500",
        **data,
    }
    response = login(world.partner).post(reverse("billing:fee_schedule"), post)
    field = message.split(":")[0]
    assert message.removeprefix(f"{field}: ") in _field_errors(response, f"id_svc-{field}")
    assert not Service.objects.filter(code="RFE2").exists()


def test_a_government_fee_with_an_expense_code_outside_the_set_is_refused(
    world: Any, login: Any
) -> None:
    post = {
        "form": "fee",
        "fee-case_type": world.h1b.pk,
        "fee-code": "I129",
        "fee-name": "I-129",
        "fee-amount": "780",
        "fee-effective_date": "2026-11-01",
        "fee-category": "REQUIRED_GOVERNMENT_FEE",
        "fee-expense_code": "E999",
    }
    before = GovernmentFee.objects.count()
    response = login(world.partner).post(reverse("billing:fee_schedule"), post)
    assert "must be a UTBMS expense code such as E112" in _field_errors(
        response, "id_fee-expense_code"
    )
    assert GovernmentFee.objects.count() == before
    login(world.partner).post(reverse("billing:fee_schedule"), {**post, "fee-expense_code": "E112"})
    assert GovernmentFee.objects.count() == before + 1
