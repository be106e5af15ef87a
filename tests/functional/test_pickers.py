"""Client and matter pickers: server-side search without JavaScript (type, Find, choose), the
client's name beside each matter, narrowing to the chosen client, and the open-matter search."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from caseledger.billing.models import TimeEntry
from caseledger.clients.pickers import PICK_NONE, PICK_PROMPT
from caseledger.clients.tests.factories import make_company
from caseledger.credits.tests import factories as cf

pytestmark = pytest.mark.django_db


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return re.findall(r'<option value="(\d+)"', select.group(1))


def test_find_shows_the_matches_with_client_names_and_saves_nothing(users, login):
    partner = users["PARTNER"]
    acme = cf.matter(client_obj=make_company(name="Acme Robotics"), partner=partner)
    cf.matter(client_obj=make_company(name="Borealis Foods"), partner=partner)
    http = login(partner)
    response = http.post(
        reverse("billing:time_entry_new"), {"matter_q": "acme", "_pick": "matter", "hours": "2"}
    )
    html = response.content.decode()
    assert _options(html, "matter") == [str(acme.pk)]
    assert f'<option value="{acme.pk}" selected>{acme.number} · Acme Robotics · ' in html
    assert PICK_PROMPT.format(count=1, query="acme") in html
    assert "This field is required" not in html  # only the picker speaks while searching
    assert 'value="2"' in html  # what was typed is kept
    assert not TimeEntry.objects.exists()


def test_find_with_no_match_says_so(users, login):
    http = login(users["PARTNER"])
    html = http.post(
        reverse("trust:deposit_new"), {"matter_q": "zzz-nothing", "_pick": "matter"}
    ).content.decode()
    assert PICK_NONE.format(query="zzz-nothing") in html


def test_matter_choices_narrow_to_the_chosen_client(users, login):
    partner = users["PARTNER"]
    acme = make_company(name="Acme Robotics")
    mine = cf.matter(client_obj=acme, partner=partner)
    cf.matter(client_obj=make_company(name="Borealis Foods"), partner=partner)
    http = login(users["BILLING"])
    html = http.post(
        reverse("payments:record"), {"client": acme.pk, "_pick": "matter", "matter_q": ""}
    ).content.decode()
    assert _options(html, "matter") == [str(mine.pk)]


def test_a_chosen_matter_still_submits(users, login, now):
    partner = users["PARTNER"]
    matter = cf.matter(client_obj=make_company(name="Acme Robotics"), partner=partner)
    http = login(partner)
    response = http.post(
        reverse("billing:expense_new"),
        {
            "matter": matter.pk,
            "matter_q": "acme",
            "kind": "EXPENSE",
            "expense_date": now.date().isoformat(),
            "description": "Courier",
            "amount": "25.00",
            "expense_code": "E107",
            "billable": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_open_matter_searches_clients(users, login):
    make_company(name="Acme Robotics")
    make_company(name="Borealis Foods")
    http = login(users["PARTNER"])
    html = http.get(reverse("matters:create") + "?q=borea").content.decode()
    assert "Borealis Foods" in html
    assert "Acme Robotics" not in html
    assert "1 match for" in html


# Countries ------------------------------------------------------------------------------------


def test_country_is_chosen_from_iso_codes_and_old_values_do_not_break_pages(users, login):
    from caseledger.clients.countries import CODES, country_code
    from caseledger.clients.forms import UNKNOWN_COUNTRY
    from caseledger.clients.models import Client

    assert len(CODES) == 249
    assert country_code("uk") == "GB"
    assert country_code("India") == "IN"
    assert country_code("ZZ") is None
    client = make_company(name="Old Data Ltd")
    Client.objects.filter(pk=client.pk).update(country="ZZ")
    http = login(users["PARTNER"])
    detail = http.get(reverse("clients:detail", args=[client.pk]))
    assert detail.status_code == 200
    edit = http.get(reverse("clients:edit", args=[client.pk])).content.decode()
    assert '<option value="IN">India</option>' in edit
    assert UNKNOWN_COUNTRY.format(value="ZZ") in edit


def test_country_migration_maps_known_values(db):
    from django.apps import apps as global_apps

    from caseledger.clients.models import Client

    client = make_company(name="Lower Case Inc")
    Client.objects.filter(pk=client.pk).update(country="gb", passport_country="zz")
    migration = __import__(
        "caseledger.clients.migrations.0004_countries_iso_3166", fromlist=["to_iso"]
    )
    migration.to_iso(global_apps, None)
    client.refresh_from_db()
    assert client.country == "GB"
    assert client.passport_country == "zz"  # unknown: left as stored
