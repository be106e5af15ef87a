from django.urls import path

from caseledger.billing import views

app_name = "billing"

urlpatterns = [
    path("review/", views.review_queue, name="review_queue"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/new/", views.invoice_draft_new, name="invoice_draft_new"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/submit/", views.invoice_submit, name="invoice_submit"),
    path("invoices/<int:pk>/approve/", views.invoice_approve, name="invoice_approve"),
    path("invoices/<int:pk>/return/", views.invoice_return, name="invoice_return"),
    path("invoices/<int:pk>/issue/", views.invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/void/", views.invoice_void, name="invoice_void"),
    path("invoices/<int:pk>/lines/", views.invoice_line_add, name="invoice_line_add"),
    path(
        "invoices/<int:pk>/lines/<int:line_pk>/remove/",
        views.invoice_line_remove,
        name="invoice_line_remove",
    ),
    path(
        "invoices/<int:pk>/lines/<int:line_pk>/edit/",
        views.invoice_line_edit,
        name="invoice_line_edit",
    ),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/ledes/", views.invoice_ledes, name="invoice_ledes"),
    path("ledes/export/", views.ledes_export, name="ledes_export"),
    path("ledes/import/", views.ledes_import, name="ledes_import"),
    path("emails/<int:pk>/retry/", views.outbox_retry, name="outbox_retry"),
    path("wip/", views.wip, name="wip"),
    path("time/", views.time_entry_new, name="time_entry_new"),
    path("time/<int:pk>/edit/", views.time_entry_edit, name="time_entry_edit"),
    path("time/<int:pk>/delete/", views.time_entry_delete, name="time_entry_delete"),
    path("expenses/", views.expense_new, name="expense_new"),
    path("expenses/<int:pk>/edit/", views.expense_edit, name="expense_edit"),
    path("expenses/<int:pk>/delete/", views.expense_delete, name="expense_delete"),
    path("fee-schedule/", views.fee_schedule, name="fee_schedule"),
    path("government-fees/", views.government_fees, name="government_fees"),
    path("invoices/<int:pk>/filing-date/", views.invoice_filing_date, name="invoice_filing_date"),
    path(
        "invoices/<int:pk>/lines/<int:line_pk>/fee-path/",
        views.invoice_line_fee_path,
        name="invoice_line_fee_path",
    ),
    path("templates/", views.templates, name="templates"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path(
        "templates/triggers/<int:pk>/remove/", views.trigger_deactivate, name="trigger_deactivate"
    ),
    path("settings/", views.billing_settings, name="billing_settings"),
    path("i/<str:token>/", views.public_invoice, name="public_invoice"),
]
