"""The {% can %} tag and |can filter (core.templatetags.permissions), the one highlighted menu
item and the one date format."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template, TemplateSyntaxError

from caseledger.core.choices import Role
from caseledger.core.context_processors import current_section


def render(source: str, **context: Any) -> str:
    return Template("{% load permissions %}" + source).render(Context(context)).strip()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.ADMIN, True),
        (Role.PARTNER, True),
        (Role.BILLING, True),
        (Role.OPERATIONS, False),
        (Role.ATTORNEY, False),
        (Role.PARALEGAL, False),
        (Role.CLIENT, False),
    ],
)
def test_block_tag_shows_the_control_only_to_roles_with_the_capability(make_user, role, shown):
    user = make_user(role=role)
    out = render('{% can "trust.deposit" %}Record deposit{% endcan %}', user=user)
    assert (out == "Record deposit") is shown


@pytest.mark.django_db
def test_block_tag_else_branch(make_user):
    out = render(
        '{% can "credits.settings" %}Approval rules{% else %}read only{% endcan %}',
        user=make_user(role=Role.BILLING),
    )
    assert out == "read only"


@pytest.mark.django_db
def test_block_tag_takes_the_capability_from_a_variable(make_user):
    out = render(
        "{% can cap %}yes{% else %}no{% endcan %}", user=make_user(role=Role.PARTNER), cap="x.y"
    )
    assert out == "no"  # unknown capability: refused


def test_block_tag_refuses_anonymous_and_a_missing_user():
    assert render('{% can "profile.edit" %}yes{% endcan %}', user=AnonymousUser()) == ""
    assert render('{% can "profile.edit" %}yes{% endcan %}') == ""


@pytest.mark.django_db
def test_block_tag_reads_the_user_from_the_request_when_no_user_is_in_the_context(make_user):
    request = SimpleNamespace(user=make_user(role=Role.ADMIN))
    assert render('{% can "users.manage" %}yes{% endcan %}', request=request) == "yes"


@pytest.mark.django_db
def test_block_tag_with_an_object_applies_the_object_scope(make_user):
    from caseledger.matters.tests.factories import MatterFactory

    mine = make_user(role=Role.ATTORNEY)
    other = make_user(role=Role.ATTORNEY)
    matter = MatterFactory(attorney=mine)
    source = '{% can "matters.manage" matter %}Edit{% else %}-{% endcan %}'
    assert render(source, user=mine, matter=matter) == "Edit"
    assert render(source, user=other, matter=matter) == "-"
    # A missing object never widens the check to the capability alone.
    assert render(source, user=mine, matter=None) == "-"


@pytest.mark.django_db
def test_filter_inside_a_condition(make_user):
    source = '{% if user|can:"billing.approve" and ready %}Approve{% endif %}'
    assert render(source, user=make_user(role=Role.PARTNER), ready=True) == "Approve"
    assert render(source, user=make_user(role=Role.PARTNER), ready=False) == ""
    assert render(source, user=make_user(role=Role.BILLING), ready=True) == ""


def test_block_tag_syntax_errors():
    with pytest.raises(TemplateSyntaxError, match="usage"):
        Template("{% load permissions %}{% can %}x{% endcan %}")
    with pytest.raises(TemplateSyntaxError, match="usage"):
        Template('{% load permissions %}{% can "a.b" x y %}x{% endcan %}')


def test_current_section_is_the_longest_matching_menu_url():
    urls = ["/trust/", "/trust/requests/", "/billing/invoices/"]
    assert current_section("/trust/requests/4/", urls) == "/trust/requests/"
    assert current_section("/trust/matters/7/", urls) == "/trust/"
    assert current_section("/profile/", urls) is None


@pytest.mark.django_db
def test_the_page_marks_one_menu_item_current(make_user, login):
    client = login(make_user(role=Role.PARTNER))
    html = client.get("/trust/disbursements/").content.decode()
    assert html.count('aria-current="page"') == 1
    assert 'href="/trust/disbursements/" aria-current="page"' in html


def test_one_date_format_for_every_page():
    day = dt.date(2026, 12, 2)
    moment = dt.datetime(2026, 12, 2, 15, 5, tzinfo=dt.UTC)
    out = Template('{{ day|date }} | {{ day }} | {{ moment|date:"DATETIME_FORMAT" }}').render(
        Context({"day": day, "moment": moment})
    )
    assert out == "Dec 2, 2026 | Dec 2, 2026 | Dec 2, 2026 10:05 AM"


def test_every_menu_entry_asks_for_the_capability_its_page_requires():
    """A menu link shown by its NAVIGATION capability must open: the page's own
    ``capability_required`` names the same capability."""
    from django.urls import resolve, reverse

    from caseledger.core.context_processors import _navigation_items

    mismatched = []
    for label, url_name, capability in _navigation_items():
        view = resolve(reverse(url_name)).func
        required = getattr(view, "capability", None)
        if required != capability:
            mismatched.append(f"{label}: menu {capability}, page {required}")
    assert not mismatched, mismatched
