"""List pages and API lists must not grow queries with rows (no N+1)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from caseledger.matters import services
from caseledger.matters.tests.factories import make_matter


def _count(http, url):
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        reverse("matters:list"),
        reverse("clients:list"),
        reverse("matters:my_tasks"),
        "/api/v1/matters",
        "/api/v1/clients",
        "/api/v1/tasks",
    ],
)
def test_lists_do_not_grow_with_rows(url, users, login, now):
    partner = users["PARTNER"]
    http = login(partner)

    def add(n):
        for _ in range(n):
            matter = make_matter(attorney=partner)
            services.receipt_add(matter=matter, number=f"EAC25{matter.pk:08d}", actor=None, now=now)
            services.task_create(title="t", matter=matter, assignee=partner, actor=None, now=now)
            services.deadline_create(
                matter=matter, kind="OTHER", due_date=now.date(), actor=None, now=now
            )

    add(2)
    few = _count(http, url)
    add(5)
    assert _count(http, url) == few


def _plan(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # tiny test tables: forbid the scans and sorts a handful of rows would make
            # cheapest, so the plan shows whether an index CAN serve the list's order
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "index"),
    [
        (None, "matters_opened_idx"),
        ("attorney_id", "matters_attorney_opn_idx"),
        ("partner_id", "matters_partner_opn_idx"),
        ("case_type_id", "matters_casetype_opn_idx"),
    ],
)
def test_matter_list_order_reads_an_index(users, field, index):
    from caseledger.core import clock
    from caseledger.matters.selectors import MatterFilters, matter_list

    partner = users["PARTNER"]
    matter = make_matter(attorney=partner, responsible_partner=partner)
    values = {
        "attorney_id": partner.pk,
        "partner_id": partner.pk,
        "case_type_id": matter.case_type_id,
    }
    filters = MatterFilters(**({field: values[field]} if field else {}))
    qs = matter_list(user=partner, filters=filters, today=clock.firm_today())
    sql, params = qs[:50].query.sql_with_params()  # the page the list reads
    plan = _plan(sql, params)
    assert index in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # SQLite: no sort of every matter
    assert not re.search(r"^\s*Sort ", plan, re.MULTILINE), plan  # PostgreSQL: no Sort node


@pytest.mark.django_db
def test_client_list_counts_open_matters_for_the_page_rows_only(users, login, monkeypatch):
    from caseledger.clients import views
    from caseledger.matters.choices import MatterStatus
    from caseledger.matters.models import Matter

    monkeypatch.setattr(views, "PAGE_ROWS", 2)
    matters = [make_matter() for _ in range(4)]
    first = matters[0]
    make_matter(client=first.client, beneficiary=first.beneficiary)
    closed = make_matter(client=first.client, beneficiary=first.beneficiary)
    Matter.objects.filter(pk=closed.pk).update(status=MatterStatus.CLOSED)
    http = login(users["PARTNER"])
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(reverse("clients:list"))
    rows = list(response.context["page"].object_list)
    assert len(rows) == 2
    shown = {c.pk for c in rows}
    counted = [
        q["sql"]
        for q in ctx.captured_queries
        if "matters_matter" in q["sql"] and "COUNT" in q["sql"].upper()
    ]
    assert len(counted) == 1, counted
    # the count names the page's clients, never a scan of every client's matters
    assert re.search(r"client_id\"? IN \(", counted[0]), counted[0]
    hidden = {m.client_id for m in matters} - shown
    for pk in hidden:
        assert not re.search(rf"\b{pk}\b", counted[0].split(" IN ")[1].split(")")[0])
    expected = {c.pk: (2 if c.pk == first.client_id else 1) for c in rows}
    assert {c.pk: c.open_matters for c in rows} == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", [reverse("matters:list"), reverse("clients:list"), reverse("billing:invoice_list")]
)
def test_lists_leave_identity_numbers_encrypted(url, users, login, monkeypatch):
    """The lists show names: they decrypt no client's or beneficiary's identity number (nor
    the invoice list's client drop-down), where each row would cost a decryption."""
    from caseledger.clients.tests.factories import make_beneficiary, make_person
    from caseledger.core import crypto

    partner = users["PARTNER"]
    make_person(
        a_number="A123456789", passport_number="X1234567", passport_country="BR", ssn_itin=""
    )
    beneficiary = make_beneficiary(passport_number="P7654321", passport_country="IN")
    make_matter(client=beneficiary.client, beneficiary=beneficiary, attorney=partner)
    decrypted: list[str] = []
    real = crypto.decrypt

    def counted(token: str, field: str = "value") -> str:
        decrypted.append(field)
        return real(token, field)

    monkeypatch.setattr(crypto, "decrypt", counted)
    response = login(partner).get(url)
    assert response.status_code == 200
    assert beneficiary.client.name in response.content.decode()
    assert decrypted == []


# The staff matter page with every panel a partner sees (trust, budget, aging, unbilled, next
# trigger, invoices, payments, credits, messages). It used to read the same rows twice and the
# case type's stages four times; this bound keeps it from creeping back.
MATTER_PAGE_STATEMENTS = 31


@pytest.mark.django_db
def test_matter_page_statements_are_bounded_and_do_not_grow_with_rows(users, login, now):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from caseledger.matters import documents
    from caseledger.payments.tests.factories import issued_invoice

    partner = users["PARTNER"]
    matter = make_matter(attorney=partner, responsible_partner=partner)
    http = login(partner)
    url = reverse("matters:detail", args=[matter.pk])
    made = [0]

    def add(n):
        for _ in range(n):
            made[0] += 1
            i = made[0]
            services.receipt_add(matter=matter, number=f"EAC25{i:08d}", actor=None, now=now)
            services.task_create(
                title=f"t{i}", matter=matter, assignee=partner, actor=None, now=now
            )
            services.deadline_create(
                matter=matter, kind="OTHER", due_date=now.date(), actor=None, now=now
            )
            services.matter_budget_set(
                matter=matter,
                kind="ESTIMATE",
                amount_cents=10_000_000 + i,
                reason="r",
                actor=partner,
                now=now,
            )
            issued_invoice(matter=matter, cents=10_000 + i, now=now)
            documents.document_upload(
                matter=matter,
                upload=SimpleUploadedFile(f"d{i}.pdf", b"%PDF-1.7\n%%EOF\n"),
                title=f"Document {i}",
                kind="OTHER",
                actor=partner,
                now=now,
            )

    add(1)
    one = _count(http, url)
    add(19)
    twenty = _count(http, url)
    assert twenty == one
    assert one <= MATTER_PAGE_STATEMENTS
