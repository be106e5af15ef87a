"""Races on PostgreSQL with real threads: the partial unique constraint keeps one open system
task per key, and the matter row lock serializes two advances of the same matter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from caseledger.matters import services
from caseledger.matters.models import StageEvent, Task
from caseledger.matters.tests.factories import make_matter, seed_case_types

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(fn: Callable[[], Any], n: int = 4) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(fn())
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_system_tasks_open_once(require_postgres, now):
    seed_case_types()
    matter = make_matter()
    results = _race(
        lambda: (
            services.task_open_for_system(
                key="race:1", matter=matter, title="Call client", due_date=None, now=now
            ).pk
        )
    )
    assert len(set(results)) == 1, results
    assert Task.objects.filter(system_key="race:1").count() == 1


def test_concurrent_advances_to_same_stage_record_one_event(require_postgres, users, now):
    seed_case_types()
    matter = make_matter()
    partner = users["PARTNER"]
    results = _race(
        lambda: (
            services.matter_stage_advance(
                matter=matter, stage="lca_filed", actor=partner, now=now
            ).pk
        )
    )
    assert sum(1 for r in results if isinstance(r, int)) == 1, results
    assert StageEvent.objects.filter(matter=matter, stage__code="lca_filed").count() == 1
