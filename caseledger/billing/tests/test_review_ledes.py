"""The partner's review queue marks drafts of clients billed in LEDES 1998B, and says how many
problems stop the draft's LEDES file from validating (approval waits for them)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from caseledger.billing import services
from caseledger.billing.tests.test_ledes_export import _draft_with_work, _ledes_client, _time
from caseledger.clients.models import Client

pytestmark = pytest.mark.django_db


def _row(html: str, invoice: Any) -> str:
    start = html.index(f">Draft #{invoice.pk}</a>")
    return html[start : html.index("</tr>", start)]


def test_review_queue_badges_ledes_clients_with_their_problems(world: Any, login: Any) -> None:
    _time(world, world.attorney, task_code="")  # no task code: the LEDES file cannot validate
    _ledes_client(world)
    broken = _draft_with_work(world)
    page = login(world.partner).get(reverse("billing:review_queue"))
    row = _row(page.content.decode(), broken)
    assert 'class="badge warn ledes-badge"' in row
    assert "LEDES · 1 problem<" in row
    assert "LINE_ITEM_TASK_CODE" in row  # the first problem, in the badge's title

    services.invoice_discard(invoice=broken, actor=world.partner, now=world.now, reason="redo")
    for entry in world.matter.time_entries.all():
        services.time_entry_update(
            entry=entry,
            work_date=entry.work_date,
            hours="1.5",
            activity_code="A103",
            task_code="L210",
            narrative=entry.narrative,
            billable=True,
            actor=world.partner,
            now=world.now,
        )
    clean = _draft_with_work(world)
    row = _row(login(world.partner).get(reverse("billing:review_queue")).content.decode(), clean)
    assert 'class="badge info ledes-badge"' in row
    assert ">LEDES</span>" in row


def test_no_ledes_badge_for_other_clients(world: Any, login: Any) -> None:
    Client.objects.filter(pk=world.matter.client_id).update(ledes_required=False)
    invoice = _draft_with_work(world)
    row = _row(login(world.partner).get(reverse("billing:review_queue")).content.decode(), invoice)
    assert "ledes-badge" not in row
