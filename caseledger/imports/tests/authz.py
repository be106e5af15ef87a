"""Authorization matrix entries for the import pages (format: core/tests/test_authz_matrix.py)."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

RUN = frozenset({Role.ADMIN.value, Role.PARTNER.value, Role.BILLING.value})
CUTOVER = frozenset({Role.ADMIN.value, Role.PARTNER.value})

CONTACTS = b"first_name,last_name,email_address\nIngrid,Halvorsen,ingrid@example.com\n"


def _job(ctx: Any) -> dict[str, Any]:
    from caseledger.imports.services import job_create

    job = job_create(
        source="clio-contacts",
        filename="c.csv",
        data=CONTACTS,
        mapping=None,
        actor=None,
        now=ctx.now,
    )
    return {"job_id": job.pk}


MATRIX: dict[str, dict[str, Any]] = {
    "imports:home": {"allow": RUN},
    "imports:sample": {"allow": RUN, "kwargs": {"name": "clio-contacts"}},
    "imports:job_map": {"allow": RUN, "kwargs": _job},
    "imports:job_detail": {"allow": RUN, "kwargs": _job},
    "imports:job_dry_run": {"allow": RUN, "method": "POST", "kwargs": _job},
    "imports:job_commit": {"allow": RUN, "method": "POST", "kwargs": _job},
    "imports:cutover": {"allow": CUTOVER},
    "imports:cutover_finalize": {"allow": CUTOVER, "method": "POST"},
}
