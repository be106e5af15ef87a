"""Client pages through core's handle_form: a service refusal under the field it names,
without its internal prefix, every form error at once, and what was typed kept."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from caseledger.clients.models import Client

pytestmark = pytest.mark.django_db


def errors_under(html: str, field: str) -> list[str]:
    block = re.search(rf'<ul class="errorlist" id="id_{field}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


def test_new_client_refusal_lands_under_its_field(login, users):
    web = login(users["PARTNER"])
    future = timezone.localdate() + timedelta(days=30)
    response = web.post(
        reverse("clients:create"),
        {
            "name": "Ana Souza",
            "kind": "PERSON",
            "client_type": "PRIVATE",
            "email": "ana@example.com",
            "payment_terms_days": "30",
            "preferred_language": "en",
            "date_of_birth": future.isoformat(),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert errors_under(html, "date_of_birth") == [f"cannot be in the future (got {future})"]
    assert "date_of_birth:" not in html
    assert 'value="Ana Souza"' in html  # the input is kept
    assert not Client.objects.filter(name="Ana Souza").exists()


def test_new_client_shows_every_field_error_at_once(login, users):
    web = login(users["PARTNER"])
    response = web.post(reverse("clients:create"), {"email": "not-an-email"})
    html = response.content.decode()
    assert errors_under(html, "name") == ["This field is required."]
    assert errors_under(html, "email") == ["Enter a valid email address."]
    assert 'value="not-an-email"' in html
