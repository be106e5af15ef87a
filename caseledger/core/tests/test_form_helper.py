"""core.forms.handle_form, through the trust deposit page: every field error at once and under
its field, a service refusal under the field it names, no "amount: amount:" prefixes, the input
kept, and a double submit (the same one-time token) recording the money once."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from caseledger.core.forms import FORM_ALREADY_SUBMITTED, error_text
from caseledger.payments.tests.factories import MatterFactory
from caseledger.trust.models import TrustDeposit

pytestmark = pytest.mark.django_db


def test_error_text_strips_the_field_prefix_once_or_repeated():
    assert error_text("amount: must be positive", "amount") == "must be positive"
    assert error_text("amount: amount: must be positive", "amount", "Amount") == "must be positive"
    assert error_text("Amount: too large", "amount", "Amount") == "too large"
    assert error_text("reference: a check needs it", "reference") == "a check needs it"
    # Another field's prefix is not this field's: kept.
    assert error_text("payer: required", "amount") == "payer: required"


def _errors_under(html: str, field: str) -> list[str]:
    block = re.search(rf'<ul class="errorlist" id="id_{field}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


def test_every_error_at_once_under_its_field(login, users):
    web = login(users["BILLING"])
    html = web.post(reverse("trust:deposit_new"), {"amount": "abc"}).content.decode()
    for field in ("matter", "method", "payer", "received_date"):
        assert _errors_under(html, field) == ["This field is required."], field
    [amount_error] = _errors_under(html, "amount")
    assert "amount:" not in amount_error.lower()
    assert amount_error.startswith("must be an amount")
    assert 'value="abc"' in html  # the input is kept
    assert "Correct these 5 fields" in html


def test_service_refusal_lands_under_the_field_it_names(login, users):
    matter = MatterFactory()
    web = login(users["BILLING"])
    data = {
        "matter": matter.pk,
        "method": "CHECK",
        "payer": "Acme Corp",
        "reference": "",
        "received_date": "2026-11-02",
        "amount": "1,250.00",
    }
    html = web.post(reverse("trust:deposit_new"), data).content.decode()
    assert _errors_under(html, "reference") == ["a check deposit needs the check number"]
    assert "reference: a check" not in html
    assert 'value="Acme Corp"' in html
    assert 'value="1,250.00"' in html
    assert not TrustDeposit.objects.exists()


def test_double_submit_records_once_and_says_so(login, users):
    matter = MatterFactory()
    web = login(users["BILLING"])
    page = web.get(reverse("trust:deposit_new")).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    data = {
        "form_token": token,
        "matter": matter.pk,
        "method": "WIRE",
        "payer": "Acme Corp",
        "reference": "W-1",
        "received_date": "2026-11-02",
        "amount": "1,250.00",
    }
    first = web.post(reverse("trust:deposit_new"), data)
    assert first.status_code == 302
    second = web.post(reverse("trust:deposit_new"), data)
    assert second.status_code == 200
    assert FORM_ALREADY_SUBMITTED in second.content.decode()
    assert TrustDeposit.objects.count() == 1


def test_refused_submit_keeps_the_token_usable(login, users):
    matter = MatterFactory()
    web = login(users["BILLING"])
    data = {
        "form_token": "tok-refused-then-fixed",
        "matter": matter.pk,
        "method": "CHECK",
        "payer": "Acme Corp",
        "reference": "",
        "received_date": "2026-11-02",
        "amount": "100.00",
    }
    assert web.post(reverse("trust:deposit_new"), data).status_code == 200
    data["reference"] = "1044"
    assert web.post(reverse("trust:deposit_new"), data).status_code == 302
    assert TrustDeposit.objects.count() == 1


def test_banner_text_drops_internal_prefixes_only():
    from caseledger.core.forms import banner_text

    assert banner_text("invoice: select at least one draft") == "Select at least one draft"
    assert banner_text("invoice: status: already issued") == "Already issued"
    assert banner_text("lines[0].amount: required") == "Required"
    assert banner_text("lines.0.amount: 2026-000001 is void") == "2026-000001 is void"
    assert banner_text("Draft #3: already issued") == "Draft #3: already issued"
    assert banner_text("Email failed again: timeout") == "Email failed again: timeout"
    assert banner_text("no prefix here") == "no prefix here"


def _request_with_messages(rf, user):
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = rf.post("/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_service_action_shows_done_and_returns_the_result(rf, users):
    from django.contrib.messages import get_messages

    from caseledger.core.actions import service_action, staff
    from caseledger.core.models import Firm

    request = _request_with_messages(rf, users["BILLING"])
    assert staff(request) is users["BILLING"]
    result = service_action(
        request,
        lambda: Firm.objects.filter(id=1).update(phone="+1 212 555 0100"),
        lambda rows: f"{rows} firm updated.",
    )
    assert result == 1
    assert [str(m) for m in get_messages(request)] == ["1 firm updated."]


def test_service_action_refusal_rolls_back_and_shows_one_banner(rf, users):
    from django.contrib.messages import get_messages

    from caseledger.core.actions import service_action
    from caseledger.core.exceptions import ApplicationError
    from caseledger.core.models import Firm

    before = Firm.objects.get(id=1).phone

    def refused() -> None:
        Firm.objects.filter(id=1).update(phone="+1 212 555 0199")
        raise ApplicationError("invoice: select at least one draft", field="invoice")

    request = _request_with_messages(rf, users["BILLING"])
    assert service_action(request, refused, "never shown") is None
    assert Firm.objects.get(id=1).phone == before  # the write inside the call is undone
    messages = [(m.level_tag, str(m)) for m in get_messages(request)]
    assert messages == [("error", "Select at least one draft")]
