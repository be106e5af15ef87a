from django.urls import path

from caseledger.trust import views

app_name = "trust"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("settings/", views.settings_edit, name="settings"),
    path("matters/<int:pk>/", views.matter_ledger, name="matter"),
    path("matters/<int:pk>/dispute/", views.dispute_new, name="dispute_new"),
    path("matters/<int:pk>/threshold/", views.threshold_set, name="threshold"),
    path("disputes/<int:pk>/release/", views.dispute_release, name="dispute_release"),
    path("clients/<int:pk>/", views.client_ledger, name="client"),
    path("clients/<int:pk>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("deposits/new/", views.deposit_new, name="deposit_new"),
    path("deposits/<int:pk>/", views.deposit_detail, name="deposit_detail"),
    path("deposits/<int:pk>/reverse/", views.deposit_reverse, name="deposit_reverse"),
    path(
        "reversals/<int:pk>/approve/",
        views.deposit_reversal_approve,
        name="deposit_reversal_approve",
    ),
    path(
        "reversals/<int:pk>/reject/", views.deposit_reversal_reject, name="deposit_reversal_reject"
    ),
    path("deposits/<int:pk>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    # The client's signed link from the receipt email (no sign-in; see trust/links.py).
    path("receipts/<str:token>/receipt.pdf", views.client_receipt, name="client_receipt"),
    path("deposits/<int:pk>/clear/", views.deposit_clear, name="deposit_clear"),
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="request_cancel"),
    path("disbursements/", views.disbursement_list, name="disbursements"),
    path("disbursements/new/", views.disbursement_new, name="disbursement_new"),
    path(
        "disbursements/<int:pk>/approve/", views.disbursement_approve, name="disbursement_approve"
    ),
    path("disbursements/<int:pk>/post/", views.disbursement_post, name="disbursement_post"),
    path("disbursements/<int:pk>/reject/", views.disbursement_reject, name="disbursement_reject"),
    path("invoices/<int:invoice_id>/apply/", views.apply_to_invoice, name="apply_to_invoice"),
]
