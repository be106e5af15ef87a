"""Walk the clients and matters authorization matrices: every URL and API operation of the two
apps has an entry, and each role gets the expected answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import get_resolver, reverse

from caseledger.api.api import api
from caseledger.clients.services import contact_add
from caseledger.clients.tests import authz as clients_authz
from caseledger.clients.tests.factories import make_beneficiary
from caseledger.matters import services
from caseledger.matters.tests import authz as matters_authz
from caseledger.matters.tests.factories import make_matter

MATRIX = {**clients_authz.MATRIX, **matters_authz.MATRIX}
API_PREFIX = "/api/v1"


def _url_names() -> set[str]:
    names = set()
    for namespace in ("clients", "matters"):
        resolver = get_resolver().namespace_dict[namespace][1]
        for pattern in resolver.url_patterns:
            names.add(f"{namespace}:{pattern.name}")
    return names


def _api_operations() -> set[str]:
    ops = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for op in path_view.operations:
                if op.operation_id and op.operation_id.split("_")[0] in {
                    "clients",
                    "matters",
                    "tasks",
                }:
                    ops.add(op.operation_id)
    return ops


def test_every_route_has_a_matrix_entry():
    assert _url_names() - set(MATRIX) == set()
    assert _api_operations() - set(MATRIX) == set()
    assert set(MATRIX) - _url_names() - _api_operations() == set()


@pytest.fixture
def world(db, make_user, now):
    """A matter on someone else's team (so the fixture attorney/paralegal are outside it)."""
    other_attorney = make_user(role="ATTORNEY", username="other_attorney")
    other_paralegal = make_user(role="PARALEGAL", username="other_paralegal")
    beneficiary = make_beneficiary()
    matter = make_matter(
        beneficiary=beneficiary,
        client=beneficiary.client,
        attorney=other_attorney,
        paralegal=other_paralegal,
    )
    contact = contact_add(client=matter.client, actor=None, now=now, name="AP", role="BILLING")
    deadline = services.deadline_create(
        matter=matter, kind="HEARING", due_date=now.date(), actor=None, now=now
    )
    task = services.task_create(
        title="t", matter=matter, assignee=other_paralegal, actor=None, now=now
    )
    return {
        "now": now,
        "matter": matter,
        "client": matter.client,
        "beneficiary": beneficiary,
        "contact": contact,
        "deadline": deadline,
        "task": task,
    }


def _page_url(name: str, w: dict[str, Any]) -> str:
    kwargs: dict[str, Any] = {}
    if name in {
        "clients:detail",
        "clients:edit",
        "clients:reveal",
        "clients:contact_add",
        "clients:beneficiary_create",
    }:
        kwargs = {"pk": w["client"].pk}
    elif name == "clients:contact_remove":
        contact = contact_add(client=w["client"], actor=None, now=w["now"], name="X", role="HR")
        kwargs = {"pk": w["client"].pk, "contact_pk": contact.pk}
    elif name.startswith("clients:beneficiary_"):
        kwargs = {"pk": w["beneficiary"].pk}
    elif name == "matters:deadline_met":
        kwargs = {"pk": w["deadline"].pk}
    elif name == "matters:task_done":
        kwargs = {"pk": w["task"].pk}
    elif name == "matters:case_type_edit":
        kwargs = {"pk": w["matter"].case_type_id}
    elif name in {
        "matters:detail",
        "matters:edit",
        "matters:advance",
        "matters:hold",
        "matters:lift",
        "matters:receipt_add",
        "matters:deadline_add",
        "matters:task_add",
    }:
        kwargs = {"pk": w["matter"].pk}
    url = reverse(name, kwargs=kwargs)
    if name == "matters:create":
        url += f"?client={w['client'].pk}"
    return url


POSTS = {name for name, row in MATRIX.items() if "allow" in row.values() or "deny" in row.values()}


NEW_CLIENT = {"name": "Zed Corp", "kind": "COMPANY", "client_type": "CORPORATE"}


def _next_stage(matter: Any) -> str:
    matter.refresh_from_db()
    return matter.case_type.stages.filter(position=matter.current_stage.position + 1).get().code


def _api_call(http: Any, op: str, w: dict[str, Any]) -> Any:
    m, c = w["matter"], w["client"]
    calls = {
        "clients_list": ("get", "/clients", None),
        "clients_read": ("get", f"/clients/{c.pk}", None),
        "clients_create": ("post", "/clients", NEW_CLIENT),
        "clients_update": ("patch", f"/clients/{c.pk}", {"phone": "+1 555 0100"}),
        "matters_list": ("get", "/matters", None),
        "matters_read": ("get", f"/matters/{m.pk}", None),
        "matters_create": ("post", "/matters", {"client_id": c.pk, "case_type": "consultation"}),
        "matters_update": ("patch", f"/matters/{m.pk}", {"notes": "called"}),
        "matters_advance": ("post", f"/matters/{m.pk}/advance", {"stage": _next_stage(m)}),
        "tasks_list": ("get", "/tasks", None),
    }  # fmt: skip
    method, path, body = calls[op]
    if body is None:
        return getattr(http, method)(API_PREFIX + path)
    return getattr(http, method)(
        API_PREFIX + path, data=json.dumps(body), content_type="application/json"
    )


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix(name, world, users, client):
    failures = []
    for role, expected in MATRIX[name].items():
        client.force_login(users[role], backend="django.contrib.auth.backends.ModelBackend")
        if ":" not in name:
            response = _api_call(client, name, world)
        elif name in POSTS:
            response = client.post(_page_url(name, world), {})
        else:
            response = client.get(_page_url(name, world))
        status = response.status_code
        ok = (
            (status != 403 and status < 500)
            if expected == "allow"
            else status == 403
            if expected == "deny"
            else status == expected
        )
        if not ok:
            failures.append(f"{role}: expected {expected}, got {status}")
    assert failures == [], name
