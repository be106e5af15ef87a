from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from caseledger.credits.locks import credit_note_next_sequence
from caseledger.credits.models import CreditNoteCounter
from caseledger.credits.services import NUMBER_FORMAT


@pytest.mark.django_db
def test_sequence_is_gapless_and_per_year():
    with transaction.atomic():
        assert credit_note_next_sequence(2026) == 1
        assert credit_note_next_sequence(2026) == 2
        assert credit_note_next_sequence(2027) == 1
    assert NUMBER_FORMAT.format(year=2026, seq=45) == "CN-2026-000045"


@pytest.mark.django_db
def test_rolled_back_number_is_reused():
    with transaction.atomic():
        assert credit_note_next_sequence(2026) == 1

    def failing_issue() -> None:
        with transaction.atomic():
            assert credit_note_next_sequence(2026) == 2
            raise RuntimeError("issue failed after numbering")

    with pytest.raises(RuntimeError):
        failing_issue()
    with transaction.atomic():
        assert credit_note_next_sequence(2026) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_numbering_has_no_gap_and_no_duplicate(require_postgres):
    CreditNoteCounter.objects.create(year=2026, value=0)
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                with transaction.atomic():
                    results.append(credit_note_next_sequence(2026))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == list(range(1, 81))
