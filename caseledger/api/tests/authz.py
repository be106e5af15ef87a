"""Authorization matrix entries of the API app's own URL (format: core/tests/test_authz_matrix.py);
the API operations' entries live with the app that serves them."""

from __future__ import annotations

from typing import Any

from caseledger.core.tests.authz import PUBLIC

MATRIX: dict[str, dict[str, Any]] = {
    # Any path under /api/ that no route serves: a JSON 404 for everyone, signed in or not.
    "api_not_found": {"allow": PUBLIC, "status": dict.fromkeys(PUBLIC, 404)},
}
