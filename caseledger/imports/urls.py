from django.urls import path

from caseledger.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.home, name="home"),
    path("sample/<slug:name>.csv", views.sample, name="sample"),
    path("jobs/<int:job_id>/map/", views.job_map, name="job_map"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/dry-run/", views.job_dry_run, name="job_dry_run"),
    path("jobs/<int:job_id>/commit/", views.job_commit, name="job_commit"),
    path("legacy-invoices/", views.legacy_invoices, name="legacy_invoices"),
    path("legacy-invoices/<int:invoice_id>/", views.legacy_invoice, name="legacy_invoice"),
    path(
        "legacy-invoices/<int:invoice_id>/pay/", views.legacy_invoice_pay, name="legacy_invoice_pay"
    ),
    path("export/", views.export_page, name="export"),
    path("export/firm.zip", views.export_download, name="export_download"),
    path("audit-pack/", views.audit_pack, name="audit_pack"),
    path("retention/", views.retention_page, name="retention"),
    path("retention/purge/", views.retention_purge, name="retention_purge"),
    path("retention/holds/<int:hold_id>/release/", views.hold_release, name="hold_release"),
    path("parallel/", views.parallel_runs, name="parallel_runs"),
    path("parallel/<int:run_id>/", views.parallel_run, name="parallel_run"),
    path("parallel/<int:run_id>/comparison.csv", views.parallel_run_csv, name="parallel_run_csv"),
    path("parallel/<int:run_id>/sign/", views.parallel_run_sign, name="parallel_run_sign"),
    path("cutover/", views.cutover, name="cutover"),
    path("cutover/finalize/", views.cutover_finalize, name="cutover_finalize"),
    path(
        "cutover/reconciliation/",
        views.cutover_reconciliation_prepare,
        name="cutover_reconciliation_prepare",
    ),
]
