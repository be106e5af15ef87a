"""Demo: a sample Clio contacts export waits on the Imports page, uploaded and mapped, for the
demo user to dry-run and commit (the matters, activities and bills samples are linked there)."""

from __future__ import annotations

from caseledger.core.demo_context import DemoContext
from caseledger.imports import services
from caseledger.imports.models import ImportJob
from caseledger.imports.selectors import SAMPLES


def seed(ctx: DemoContext) -> None:
    if ImportJob.objects.filter(filename="clio-contacts.csv").exists():
        return
    services.job_create(
        source="clio-contacts",
        filename="clio-contacts.csv",
        data=(SAMPLES / "clio-contacts.csv").read_bytes(),
        mapping=None,
        actor=ctx.users["partner"],
        now=ctx.now,
    )
