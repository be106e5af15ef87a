"""The benchmark generator's firm (staff, clients, matters, issued and partly paid invoices with
their postings) passes every cross-check of ``manage.py verify``."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from bench.generate import generate_firm
from bench.receivables import generate_receivables

pytestmark = pytest.mark.django_db


def test_a_generated_firm_passes_verify():
    from caseledger.ledger.services import chart_ensure
    from conftest import NOW

    chart_ensure(now=NOW)
    firm = generate_firm(matters=12, seed=3)
    generate_receivables(
        invoices=40, matter_ids=firm.matter_ids, matter_client=firm.matter_client, paid_share=0.5
    )
    out, err = StringIO(), StringIO()
    try:
        call_command("verify", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r for r in rows if "problem" in r] == []
    assert code == 0
    # Every check of settings.VERIFY_CHECKS ran and found nothing.
    assert rows[-1] == {"verify": "ok", "checks": len(settings.VERIFY_CHECKS), "problems": 0}
