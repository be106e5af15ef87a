"""The API keeps its published contract: schemathesis (all checks) against a live server, as a
partner, a billing clerk and a client, with a fixed seed and a bounded number of examples.

Zero failures means: no 5xx, every status and body as documented (the error statuses with the
``Error`` schema), every schema-valid request accepted (2xx, or 401/403/404/409 from the firm's
records) and every schema-breaking one refused with a 4xx.

The client role: ``Role.CLIENT`` exists (portal users); the API lets every role in
(``api.access``) though only staff may create tokens on their profile page, so the client's token
is made with the service here, as a future portal would hold a session.

Runs in the SQLite pass (``-m contract`` also selects it alone). Bounded to stay quick: the
examples and fuzzing phases (positive and negative data), 5 examples per operation.
``SCHEMATHESIS_EXAMPLES`` and ``SCHEMATHESIS_PHASES`` (e.g. ``examples,coverage,fuzzing``, the
coverage phase's boundary values take minutes) make a deeper run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.contract, pytest.mark.django_db(transaction=True)]

SEED = 20261202
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
PHASES = os.environ.get("SCHEMATHESIS_PHASES", "examples,fuzzing")
ROLES = ("PARTNER", "BILLING", "CLIENT")


@pytest.fixture
def world(users: dict[str, Any], settings: Any) -> Any:
    """A firm with a matter, an approved draft and an issued invoice, so ids 1.. exist."""
    from caseledger.billing.tests.factories import approved_draft, build_world, issued_invoice

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    built = build_world(users)
    approved_draft(built)
    issued_invoice(built)
    return built


def _token(user: Any) -> str:
    from caseledger.core import clock
    from caseledger.core.services import api_token_create

    return api_token_create(user=user, now=clock.now(), name="contract test")[1]


def run_schemathesis(base_url: str, token: str, report: Path) -> dict[str, Any]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base_url}/api/v1/openapi.json",
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES),
        "--phases",
        PHASES,
        "--workers",
        "1",
        "--no-shrink",
        "--generation-database",
        "none",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert report.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(report.read_text())
    data["_output"] = result.stdout
    return data


@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_its_contract(role, live_server, users, world, tmp_path, capsys):
    data = run_schemathesis(live_server.url, _token(users[role]), tmp_path / "report.json")
    counts = {f["code"]: f["count"] for f in data["failures"]}
    figures = {
        "role": role,
        "requests": data["test_cases"]["generated"],
        "server_errors": counts.get("ST101", 0) + counts.get("ST102", 0),
        "schema_violations": sum(n for code, n in counts.items() if code.startswith("ST1"))
        - counts.get("ST101", 0)
        - counts.get("ST102", 0),
        "valid_refused": counts.get("ST202", 0),
        "failures": counts,
    }
    with capsys.disabled():
        print(json.dumps(figures))  # noqa: T201 (the figures of the run)
    assert data["operations"]["tested"] == data["operations"]["selected"] > 20
    assert data["failures"] == [], data["_output"][-6000:]
    assert data["errors"] == [], data["_output"][-6000:]
