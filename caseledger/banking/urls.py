from django.urls import path

from caseledger.banking import views
from caseledger.banking.reconciliation import views as recon_views

app_name = "banking"

urlpatterns = [
    path("", views.account_list, name="accounts"),
    path("accounts/new/", views.account_new, name="account_new"),
    path("accounts/<int:pk>/", views.account_detail, name="account"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:pk>/import/", views.import_upload, name="import_upload"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("imports/<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("accounts/<int:pk>/matching/", views.matching_workbench, name="matching"),
    path("accounts/<int:pk>/matching/accept/", views.matching_accept, name="matching_accept"),
    path("lines/<int:pk>/", views.line_detail, name="line"),
    path("lines/<int:pk>/match/", views.line_match, name="line_match"),
    path("lines/<int:pk>/unmatch/", views.line_unmatch, name="line_unmatch"),
    path("lines/<int:pk>/resolve/", views.line_resolve, name="line_resolve"),
    path("lines/<int:pk>/split/", views.line_split, name="line_split"),
    path("reconciliation/", recon_views.home, name="reconciliation_home"),
    path("reconciliation/settings/", recon_views.settings_edit, name="reconciliation_settings"),
    path("accounts/<int:pk>/reconciliation/", recon_views.report, name="reconciliation"),
    path(
        "accounts/<int:pk>/reconciliation/clients/",
        recon_views.client_listing,
        name="reconciliation_clients",
    ),
    path(
        "accounts/<int:pk>/reconciliation/prepare/",
        recon_views.prepare,
        name="reconciliation_prepare",
    ),
    path("accounts/<int:pk>/reconciliations/", recon_views.archive, name="reconciliation_archive"),
    path("reconciliations/<int:pk>/sign/", recon_views.sign, name="reconciliation_sign"),
    path("reconciliations/<int:pk>/reopen/", recon_views.reopen, name="reconciliation_reopen"),
    path("reconciliations/<int:pk>/pdf/", recon_views.pdf, name="reconciliation_pdf"),
]
