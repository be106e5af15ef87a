"""Every refusal of the imports services that no other test checked by its text: each is raised
with the message naming the field and the rule, and a refused call leaves import jobs,
mappings, cutovers, imported records, clients, payments, journal entries and audit events as
they were (``scripts/refusal_coverage.py`` lists them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caseledger.clients.models import Client
from caseledger.core.models import AuditEvent
from caseledger.imports import services
from caseledger.imports.choices import JobStatus
from caseledger.imports.exceptions import CutoverRefused, ImportRefused
from caseledger.imports.models import Cutover, ImportJob, ImportMapping, LegacyInvoice
from caseledger.imports.tests.test_services import fixture, load_base, run
from caseledger.ledger.models import JournalEntry
from caseledger.payments.models import Payment

pytestmark = pytest.mark.django_db

HEADER = b"REFNUM,NAME,COMPANYNAME,FIRSTNAME,LASTNAME,BADDR1,PHONE1,EMAIL\n"


def _state() -> dict[str, Any]:
    return {
        "jobs": list(
            ImportJob.objects.values(
                "id", "status", "columns", "defaults", "report", "total_units", "failure"
            ).order_by("id")
        ),
        "mappings": list(ImportMapping.objects.values().order_by("id")),
        "cutovers": list(Cutover.objects.values().order_by("id")),
        "legacy_invoices": list(LegacyInvoice.objects.values().order_by("id")),
        "clients": Client.objects.count(),
        "payments": Payment.objects.count(),
        "entries": JournalEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, match=..., error=ImportRefused, **kwargs)``: the call raises ``error``
    matching ``match`` and changes nothing."""

    def check(
        call: Callable[..., Any],
        *,
        match: str,
        error: type[Exception] = ImportRefused,
        **kwargs: Any,
    ) -> None:
        before = _state()
        with pytest.raises(error, match=match):
            call(**kwargs)
        assert _state() == before

    return check


def _job(now: Any, data: bytes = HEADER + b"101,Acme,Acme LLC,,,1 Main St,555,a@b.example\n"):
    return services.job_create(
        source="qbd-customers", filename="customers.csv", data=data, mapping=None, actor=None,
        now=now,
    )  # fmt: skip


def test_uploads_refuse_an_unknown_source_an_empty_file_and_unreadable_csv(now, refused):
    args = {"filename": "x.csv", "mapping": None, "actor": None, "now": now}
    refused(
        services.job_create,
        match=r"^source: unknown source 'sage' \(one of clio-contacts, .*\)$",
        source="sage",
        data=HEADER,
        **args,
    )
    refused(
        services.job_create,
        match=r"^file: has no header row$",
        source="qbd-customers",
        data=b",,\n1,2,3\n",
        **args,
    )
    refused(
        services.job_create,
        match=r"^file: cannot be read as CSV text \(field larger than field limit \(\d+\)\)$",
        source="qbd-customers",
        data=HEADER + b"101," + b"x" * 200_000 + b",,,,,,\n",
        **args,
    )


def test_job_map_refuses_an_unknown_field_and_a_missing_header(now, refused):
    job = _job(now)
    args = {"job": job, "defaults": {}, "consent_updates": False, "actor": None, "now": now}
    refused(
        services.job_map,
        match=r"^columns: 'shoe_size' is not a field of qbd-customers$",
        columns={"shoe_size": "NAME"},
        **args,
    )
    refused(
        services.job_map,
        match=r"^columns\.email: the file has no column 'E-MAIL'$",
        columns={"email": "E-MAIL"},
        **args,
    )


def test_mapping_save_refuses_no_name_a_shipped_name_and_an_unknown_field(now, refused):
    args = {"source": "qbd-customers", "defaults": {}, "actor": None, "now": now}
    refused(
        services.mapping_save,
        match=r"^name: give the mapping a name$",
        name="  ",
        columns={"name": "NAME"},
        **args,
    )
    refused(
        services.mapping_save,
        match=r"^name: 'qbd-customers' is a shipped mapping; save yours under another name$",
        name="qbd-customers",
        columns={"name": "NAME"},
        **args,
    )
    refused(
        services.mapping_save,
        match=r"^columns: 'shoe_size' is not a field of qbd-customers$",
        name="Our export",
        columns={"shoe_size": "SIZE"},
        **args,
    )


def test_commit_refuses_a_job_not_dry_run_one_with_problems_and_one_already_imported(now, refused):
    job = _job(now)
    refused(
        services.job_commit_start,
        match=r"^job: run the dry run before committing \(the job is Uploaded\)$",
        job=job,
        actor=None,
        now=now,
    )
    bad = services.job_create(
        source="clio-contacts", filename="contacts.csv", data=fixture("clio-contacts"),
        mapping=None, actor=None, now=now,
    )  # fmt: skip
    services.job_dry_run(job=bad, actor=None, now=now)
    bad.refresh_from_db()
    count = len(bad.report["errors"])
    assert count > 0
    refused(
        services.job_commit_start,
        match=(rf"^job: the dry run found {count} problems; fix the file and upload it again$"),
        job=bad,
        actor=None,
        now=now,
    )
    services.job_dry_run(job=job, actor=None, now=now)
    services.job_run(job=job, actor=None, now=now)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    refused(
        services.job_commit_start,
        match=r"^job: already imported$",
        job=job,
        actor=None,
        now=now,
    )
    refused(
        services.job_map,
        match=r"^job: already imported$",
        job=job,
        columns={},
        defaults={},
        consent_updates=False,
        actor=None,
        now=now,
    )


def test_commit_refuses_a_job_whose_file_no_longer_gives_the_dry_runs_records(now, refused):
    job = _job(now)
    services.job_dry_run(job=job, actor=None, now=now)
    # The dry run of an earlier version of the source counted 3 records in this file.
    ImportJob.objects.filter(pk=job.pk).update(total_units=3)
    refused(
        services.job_run,
        match=r"^job: the file no longer gives 3 records \(1\); start a new import$",
        job=job,
        actor=None,
        now=now,
    )


@pytest.fixture
def cut_over(now: Any, users: dict[str, Any]) -> LegacyInvoice:
    """One open legacy invoice (L-1042, $760.00) and the cutover of June 30, 2025 finalized."""
    load_base(now)
    assert run("clio-bills", fixture("clio-bills", drop=(4, 5)), now)["errors"] == []
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30),
        trust_bank_cents=0,
        aging_total_cents=76000,
        actor=users["PARTNER"],
        now=now,
    )
    services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=now)
    return LegacyInvoice.objects.get()


def test_cutover_refuses_an_aging_total_that_does_not_tie(now, users, refused):
    load_base(now)
    assert run("clio-bills", fixture("clio-bills", drop=(4, 5)), now)["errors"] == []
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30),
        trust_bank_cents=0,
        aging_total_cents=75000,
        actor=users["PARTNER"],
        now=now,
    )
    refused(
        services.cutover_finalize,
        match=(
            r"^aging_total: open legacy invoices sum to \$760\.00 but the old system's aging "
            r"total is \$750\.00; they must be equal$"
        ),
        error=CutoverRefused,
        cutover=cutover,
        actor=users["PARTNER"],
        now=now,
    )


def test_a_finalized_cutover_refuses_changes_and_a_second_finalize(now, users, cut_over, refused):
    refused(
        services.cutover_save,
        match=r"^cutover: already finalized on 2025-06-30$",
        error=CutoverRefused,
        as_of=date(2025, 7, 31),
        trust_bank_cents=0,
        aging_total_cents=0,
        actor=users["PARTNER"],
        now=now,
    )
    refused(
        services.cutover_finalize,
        match=r"^cutover: already finalized on 2025-06-30$",
        error=CutoverRefused,
        cutover=Cutover.objects.get(),
        actor=users["PARTNER"],
        now=now,
    )


def test_legacy_payment_refuses_a_date_before_the_cutover(now, users, cut_over, refused):
    refused(
        services.legacy_invoice_pay,
        match=r"^received_date: 2025-06-15 is before the cutover date 2025-06-30$",
        invoice=cut_over,
        method="CHECK",
        payer="Ingrid Halvorsen",
        amount_cents=30000,
        received_date=date(2025, 6, 15),
        reference="1187",
        actor=users["PARTNER"],
        now=now,
    )
