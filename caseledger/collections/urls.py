from django.urls import path

from caseledger.collections import views

app_name = "collections"

urlpatterns = [
    path("aging/", views.aging, name="aging"),
    path("aging/invoices/", views.aging_invoices, name="aging_invoices"),
    path("queue/", views.queue, name="queue"),
    path("run/", views.run_now, name="run_now"),
    path("reminders/<int:pk>/retry/", views.reminder_retry_view, name="reminder_retry"),
    path("reminders/<int:pk>/letter.pdf", views.letter_pdf, name="letter_pdf"),
    path("policies/", views.policies, name="policies"),
    path("policies/new/", views.policy_edit, name="policy_create"),
    path("policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("at-risk/", views.at_risk, name="at_risk"),
    path("holds/<int:pk>/lift/", views.hold_lift, name="hold_lift"),
    path("invoices/<int:pk>/", views.invoice_history, name="invoice_history"),
    path("invoices/<int:pk>/activity/", views.activity_create, name="activity_create"),
    path("invoices/<int:pk>/dispute/", views.dispute_open_view, name="dispute_open"),
    path("disputes/<int:pk>/resolve/", views.dispute_resolve_view, name="dispute_resolve"),
    path("invoices/<int:pk>/plan/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/cancel/", views.plan_cancel, name="plan_cancel"),
]
