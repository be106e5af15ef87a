from __future__ import annotations

import pytest

from caseledger.matters.models import CaseType, Stage
from caseledger.matters.tests.factories import make_matter


@pytest.mark.django_db
def test_seeded_h1b_template_is_exact():
    codes = list(
        Stage.objects.filter(case_type__code="h1b_cap")
        .order_by("position")
        .values_list("code", flat=True)
    )
    assert codes == [
        "intake",
        "lca_filed",
        "petition_prepared",
        "prepare_filing",
        "filed",
        "receipt_received",
        "rfe",
        "decision",
        "closed",
    ]
    # 14 from migration 0003, 8 more (L-1, O-1, I-765, I-131, I-539, I-751, I-90, consular
    # processing) from migration 0006.
    assert CaseType.objects.count() == 22


@pytest.mark.django_db
def test_matter_factory_opens_at_first_stage():
    matter = make_matter()
    assert matter.current_stage.code == "intake"
    assert matter.stage_events.count() == 1
    assert matter.number.endswith("-0001")
