from __future__ import annotations

import tempfile
from pathlib import Path
from typing import IO, Any, cast

from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import banner_text, handle_form
from caseledger.core.permissions import capability_required
from caseledger.imports import selectors, services
from caseledger.imports.choices import JobStatus
from caseledger.imports.forms import (
    AuditPackForm,
    CutoverForm,
    HoldForm,
    LegacyPaymentForm,
    MapForm,
    ParallelRunForm,
    PurgeForm,
    RetentionForm,
    SignForm,
    UploadForm,
)
from caseledger.imports.models import ImportJob, LegacyInvoice

SAMPLES = Path(__file__).parent / "samples"


@capability_required("imports.run")
def home(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    job = handle_form(
        request,
        form,
        lambda data: services.job_create(
            source=data["source"],
            filename=data["file"].name,
            data=data["file"].read(),
            mapping=data.get("mapping"),
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if job is not None:
        return redirect(reverse("imports:job_map", args=[job.pk]))
    return render(
        request,
        "imports/home.html",
        {"form": form, "jobs": selectors.job_list(), "samples": selectors.sample_names()},
    )


@capability_required("imports.run")
def sample(request: HttpRequest, name: str) -> HttpResponse:
    if name not in selectors.sample_names():
        raise Http404
    response = HttpResponse((SAMPLES / f"{name}.csv").read_bytes(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@capability_required("imports.run")
def job_map(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    source = services.source_get(job.source)
    headers, _ = services.read_csv(job.content)
    initial: dict[str, object] = {"consent_updates": job.consent_updates}
    for f in source.fields:
        initial[f"col_{f.name}"] = job.columns.get(f.name, "")
        initial[f"def_{f.name}"] = job.defaults.get(f.name, "")
    form = MapForm(request.POST or None, source=source, headers=headers, initial=initial)

    def save(data: dict[str, object]) -> ImportJob:
        now = clock.now()
        saved = services.job_map(
            job=job,
            columns=form.columns(),
            defaults=form.defaults(),
            consent_updates=bool(data.get("consent_updates")),
            actor=staff(request),
            now=now,
        )
        if data.get("save_as"):
            services.mapping_save(
                name=str(data["save_as"]),
                source=job.source,
                columns=form.columns(),
                defaults=form.defaults(),
                actor=staff(request),
                now=now,
            )
        return saved

    if handle_form(request, form, save) is not None:
        return redirect(reverse("imports:job_detail", args=[job.pk]))
    return render(
        request,
        "imports/map.html",
        {"job": job, "form": form, "source": source, "mapping": job.mapping},
    )


@capability_required("imports.run")
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    return render(
        request,
        "imports/job.html",
        {
            "job": job,
            "source": services.source_get(job.source),
            "preview": selectors.job_preview(job),
            "running": job.status == JobStatus.RUNNING,
        },
    )


@require_POST
@capability_required("imports.run")
def job_dry_run(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    service_action(
        request,
        lambda: services.job_dry_run(job=job, actor=staff(request), now=clock.now()),
        lambda report: f"Dry run: {report.valid} of {report.rows} rows valid, nothing written.",
    )
    return redirect(reverse("imports:job_detail", args=[job.pk]))


@require_POST
@capability_required("imports.run")
def job_commit(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    service_action(
        request,
        lambda: services.job_commit_queue(job=job, actor=staff(request), now=clock.now()),
        "Import started; this page shows its progress.",
    )
    return redirect(reverse("imports:job_detail", args=[job.pk]))


@capability_required("imports.cutover")
def cutover(request: HttpRequest) -> HttpResponse:
    current = selectors.cutover_current()
    initial = {}
    if current is not None:
        initial = {
            "as_of": current.as_of,
            "trust_bank": f"{current.trust_bank_cents / 100:.2f}",
            "aging_total": f"{current.aging_total_cents / 100:.2f}",
        }
    form = CutoverForm(request.POST or None, initial=initial)
    saved = handle_form(
        request,
        form,
        lambda data: services.cutover_save(
            as_of=data["as_of"],
            trust_bank_cents=data["trust_bank"],
            aging_total_cents=data["aging_total"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if saved is not None:
        messages.success(request, "Cutover figures saved.")
        return redirect(reverse("imports:cutover"))
    proof = services.cutover_proof(current) if current is not None else None
    return render(
        request,
        "imports/cutover.html",
        {
            "form": form,
            "cutover": current,
            "proof": proof,
            **selectors.opening_summary(),
            **selectors.cutover_reconciliation(current, clock.firm_today()),
        },
    )


@require_POST
@capability_required("imports.cutover")
def cutover_finalize(request: HttpRequest) -> HttpResponse:
    current = selectors.cutover_current()
    if current is None:
        messages.error(request, "cutover: enter the cutover figures first")
        return redirect(reverse("imports:cutover"))
    service_action(
        request,
        lambda: services.cutover_finalize(cutover=current, actor=staff(request), now=clock.now()),
        "Opening balances posted to the ledger.",
    )
    return redirect(reverse("imports:cutover"))


@require_POST
@capability_required("imports.cutover")
def cutover_reconciliation_prepare(request: HttpRequest) -> HttpResponse:
    current = selectors.cutover_current()
    if current is None:
        messages.error(request, "cutover: enter the cutover figures first")
        return redirect(reverse("imports:cutover"))
    service_action(
        request,
        lambda: services.cutover_reconciliation_prepare(
            cutover=current, actor=staff(request), now=clock.now()
        ),
        "Cutover reconciliation prepared; a partner or attorney other than you signs it.",
    )
    return redirect(reverse("imports:cutover"))


@capability_required("imports.run")
def legacy_invoices(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "imports/legacy_invoices.html",
        {"invoices": selectors.legacy_invoice_list(), "cutover": selectors.cutover_current()},
    )


@capability_required("imports.run")
def legacy_invoice(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = get_object_or_404(
        LegacyInvoice.objects.select_related("client", "matter"), pk=invoice_id
    )
    context = selectors.legacy_invoice_detail(invoice)
    context["cutover"] = selectors.cutover_current()
    return render(request, "imports/legacy_invoice.html", context)


@capability_required("imports.collect")
def legacy_invoice_pay(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = get_object_or_404(
        LegacyInvoice.objects.select_related("client", "matter"), pk=invoice_id
    )
    form = LegacyPaymentForm(
        request.POST or None,
        initial={"received_date": clock.firm_today(), "payer": invoice.client.name},
    )
    paid = handle_form(
        request,
        form,
        lambda data: services.legacy_invoice_pay(
            invoice=invoice,
            method=data["method"],
            payer=data["payer"],
            amount_cents=data["amount"],
            received_date=data["received_date"],
            reference=data.get("reference") or "",
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if paid is not None:
        messages.success(request, f"Payment {paid.payment.number} applied to {invoice}.")
        return redirect(reverse("imports:legacy_invoices"))
    return render(request, "imports/legacy_pay.html", {"form": form, "invoice": invoice})


@capability_required("imports.export")
def export_page(request: HttpRequest) -> HttpResponse:
    from caseledger.imports.export import exported_models

    return render(request, "imports/export.html", {"tables": len(exported_models())})


@require_POST
@capability_required("imports.export")
def export_download(request: HttpRequest) -> HttpResponse:
    from caseledger.imports.export import export_chunks, export_recorded

    now = clock.now()
    export_recorded(actor=staff(request), now=now, target="download")
    response = StreamingHttpResponse(export_chunks(now=now), content_type="application/zip")
    stamp = now.strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="caseledger-export-{stamp}.zip"'
    # Served like any HttpResponse; declared as one for the capability decorator.
    return cast(HttpResponse, response)


@capability_required("imports.export")
def audit_pack(request: HttpRequest) -> HttpResponse:
    """Form (GET); the pack's zip (POST), or the form again with the refusal."""
    from caseledger.imports.auditpack import audit_pack, audit_pack_recorded
    from caseledger.ledger.models import Account

    today = clock.firm_today()
    form = AuditPackForm(
        request.POST or None, initial={"start": today.replace(month=1, day=1), "end": today}
    )

    def build(data: dict) -> IO[bytes]:
        """The pack written to a temporary file (deleted when the response closes it)."""
        account = Account.objects.get(pk=data["account"])
        now = clock.now()
        spool = tempfile.TemporaryFile()
        try:
            audit_pack(account=account, start=data["start"], end=data["end"], now=now, out=spool)
            audit_pack_recorded(
                actor=staff(request), account=account, start=data["start"], end=data["end"], now=now
            )
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    spool = handle_form(request, form, build)
    if spool is not None:
        name = f"audit-pack-{form.cleaned_data['start']}-{form.cleaned_data['end']}.zip"
        response = FileResponse(
            spool, as_attachment=True, filename=name, content_type="application/zip"
        )
        # Served like any HttpResponse; declared as one for the capability decorator.
        return cast(HttpResponse, response)
    return render(request, "imports/audit_pack.html", {"form": form})


@capability_required("imports.retention")
def retention_page(request: HttpRequest) -> HttpResponse:
    """Retention settings, the state minimums, legal holds (place one here)."""
    from caseledger.clients.models import Client
    from caseledger.imports import retention
    from caseledger.imports.models import LegalHold, PurgeRecord
    from caseledger.matters.models import Matter

    policy = retention.retention_settings()
    initial = {
        "state": policy.state,
        "trust_years": policy.trust_years,
        "billing_years": policy.billing_years,
        "matter_years": policy.matter_years,
    }
    which = request.POST.get("form") if request.method == "POST" else None
    settings_form = RetentionForm(request.POST if which == "settings" else None, initial=initial)
    hold_form = HoldForm(request.POST if which == "hold" else None)
    if which == "settings":
        saved = handle_form(
            request,
            settings_form,
            lambda d: retention.retention_settings_save(
                state=d["state"],
                trust_years=d["trust_years"],
                billing_years=d["billing_years"],
                matter_years=d["matter_years"],
                actor=staff(request),
                now=clock.now(),
            ),
        )
        if saved is not None:
            messages.success(request, "Retention saved.")
            return redirect(reverse("imports:retention"))
    if which == "hold":

        def place(d: dict[str, Any]) -> Any:
            matter = Matter.objects.filter(number=d.get("number") or "").first()
            client = Client.objects.filter(name=d.get("client") or "").first()
            if d.get("number") and matter is None:
                raise retention.RetentionRefused(f"number: no matter {d['number']}", field="number")
            if d.get("client") and client is None:
                raise retention.RetentionRefused(
                    f"client: no client named {d['client']}", field="client"
                )
            return retention.legal_hold_place(
                client=None if matter else client,
                matter=matter,
                reason=d["reason"],
                actor=staff(request),
                now=clock.now(),
            )

        if handle_form(request, hold_form, place) is not None:
            messages.success(request, "Legal hold placed.")
            return redirect(reverse("imports:retention"))
    holds = (
        LegalHold.objects.filter(released_at__isnull=True)
        .select_related("client", "matter", "placed_by")
        .order_by("-placed_at")
    )
    purges = PurgeRecord.objects.select_related("matter", "purged_by").order_by("-purged_at")
    return render(
        request,
        "imports/retention.html",
        {
            "settings_form": settings_form,
            "hold_form": hold_form,
            "purge_form": PurgeForm(),
            "states": [(k, y, rule) for k, (y, rule) in retention.STATE_TRUST_MINIMUMS.items()],
            "holds": holds,
            "purges": purges[:50],
        },
    )


@capability_required("imports.retention")
def retention_purge(request: HttpRequest) -> HttpResponse:
    """Dry run (the list of what goes) then, on confirm, the purge of one matter."""
    from caseledger.imports import retention
    from caseledger.matters.models import Matter

    form = PurgeForm(request.POST or request.GET or None)
    plan = None
    error = ""
    if form.is_bound and form.is_valid():
        matter = Matter.objects.filter(number=form.cleaned_data["number"]).first()
        if matter is None:
            error = f"number: no matter {form.cleaned_data['number']}"
        else:
            try:
                if request.method == "POST" and request.POST.get("confirm") == "purge":
                    record = retention.matter_purge(
                        matter=matter, actor=staff(request), now=clock.now()
                    )
                    messages.success(request, f"{matter.number} purged ({record.pseudonym}).")
                    return redirect(reverse("imports:retention"))
                plan = retention.purge_plan(matter=matter, today=clock.firm_today())
            # Not service_action: the refusal is shown on the purge page, shown again with the
            # matter's number still typed (no redirect).
            except ApplicationError as exc:
                error = banner_text(exc.message)
    return render(
        request, "imports/retention_purge.html", {"form": form, "plan": plan, "error": error}
    )


@require_POST
@capability_required("imports.retention")
def hold_release(request: HttpRequest, hold_id: int) -> HttpResponse:
    from caseledger.imports import retention
    from caseledger.imports.models import LegalHold

    hold = get_object_or_404(LegalHold, pk=hold_id)
    service_action(
        request,
        lambda: retention.legal_hold_release(hold=hold, actor=staff(request), now=clock.now()),
        "Legal hold released.",
    )
    return redirect(reverse("imports:retention"))


@capability_required("imports.run")
def parallel_runs(request: HttpRequest) -> HttpResponse:
    from caseledger.imports import parallel
    from caseledger.imports.models import ParallelRun

    today = clock.firm_today()
    form = ParallelRunForm(
        request.POST or None,
        request.FILES or None,
        initial={"cycle_start": today.replace(day=1), "cycle_end": today},
    )
    run = handle_form(
        request,
        form,
        lambda d: parallel.parallel_run_create(
            cycle_start=d["cycle_start"],
            cycle_end=d["cycle_end"],
            filename=d["file"].name,
            data=d["file"].read(),
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if run is not None:
        return redirect(reverse("imports:parallel_run", args=[run.pk]))
    runs = ParallelRun.objects.select_related("signed_by").order_by("-created_at")[:50]
    return render(request, "imports/parallel_runs.html", {"form": form, "runs": runs})


@capability_required("imports.run")
def parallel_run(request: HttpRequest, run_id: int) -> HttpResponse:
    from caseledger.imports import parallel
    from caseledger.imports.models import ParallelRun

    run = get_object_or_404(ParallelRun.objects.select_related("signed_by"), pk=run_id)
    rows = parallel.parallel_compare(run)
    counts: dict[str, int] = {}
    for m in rows:
        counts[m.status] = counts.get(m.status, 0) + 1
    return render(
        request,
        "imports/parallel_run.html",
        {
            "run": run,
            "rows": rows,
            "counts": counts,
            "categories": [parallel.CATEGORY_LABELS[c] for c in parallel.CATEGORIES],
            "sign_form": SignForm(),
        },
    )


@capability_required("imports.run")
def parallel_run_csv(request: HttpRequest, run_id: int) -> HttpResponse:
    from caseledger.imports import parallel
    from caseledger.imports.models import ParallelRun

    run = get_object_or_404(ParallelRun, pk=run_id)
    body = run.signed_result.get("csv") or parallel.parallel_csv(parallel.parallel_compare(run))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="parallel-run-{run.pk}.csv"'
    return response


@require_POST
@capability_required("imports.parallel_sign")
def parallel_run_sign(request: HttpRequest, run_id: int) -> HttpResponse:
    from caseledger.imports import parallel
    from caseledger.imports.models import ParallelRun

    run = get_object_or_404(ParallelRun, pk=run_id)
    form = SignForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    service_action(
        request,
        lambda: parallel.parallel_run_sign(
            run=run, actor=staff(request), note=note, now=clock.now()
        ),
        "Parallel run signed off.",
    )
    return redirect(reverse("imports:parallel_run", args=[run.pk]))
