from django.urls import path

from caseledger.credits import views

app_name = "credits"

urlpatterns = [
    path("", views.credit_note_list, name="credit_note_list"),
    path("new/", views.credit_note_create, name="credit_note_create"),
    path("<int:pk>/", views.credit_note_detail, name="credit_note_detail"),
    path("<int:pk>/approve/", views.credit_note_approve, name="credit_note_approve"),
    path("<int:pk>/reject/", views.credit_note_reject, name="credit_note_reject"),
    path("<int:pk>/pdf/", views.credit_note_pdf, name="credit_note_pdf"),
    path(
        "<int:pk>/refunds/<int:refund_pk>/request-again/",
        views.trust_refund_request_again,
        name="trust_refund_request_again",
    ),
    path("write-offs/", views.write_off_list, name="write_off_list"),
    path("write-offs/new/", views.write_off_create, name="write_off_create"),
    path("write-offs/<int:pk>/", views.write_off_detail, name="write_off_detail"),
    path("write-offs/<int:pk>/approve/", views.write_off_approve, name="write_off_approve"),
    path("write-offs/<int:pk>/reject/", views.write_off_reject, name="write_off_reject"),
    path("write-offs/<int:pk>/reverse/", views.write_off_reverse, name="write_off_reverse"),
    path("reports/", views.report, name="report"),
    path("settings/", views.credit_settings, name="settings"),
]
