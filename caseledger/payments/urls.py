from django.urls import path

from caseledger.payments import views

app_name = "payments"

urlpatterns = [
    path("payments/", views.payment_list, name="list"),
    path("payments/new/", views.payment_record, name="record"),
    path("payments/<int:pk>/", views.payment_detail, name="detail"),
    path("payments/<int:pk>/allocate/", views.payment_allocate, name="allocate"),
    path("payments/<int:pk>/refund/", views.payment_refund, name="refund"),
    path("payments/refunds/<int:pk>/retry/", views.card_refund_retry, name="refund_retry"),
    path("payments/<int:pk>/release/", views.payment_release, name="release"),
    path("payments/<int:pk>/reject/", views.payment_reject, name="reject"),
    path("payments/<int:pk>/reverse/", views.payment_reverse, name="reverse"),
    path(
        "payments/reversals/<int:pk>/approve/",
        views.payment_reversal_approve,
        name="reversal_approve",
    ),
    path(
        "payments/reversals/<int:pk>/reject/",
        views.payment_reversal_reject,
        name="reversal_reject",
    ),
    path("payments/settings/", views.correction_settings, name="settings"),
    path("payments/webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
    path("pay/i/<str:token>/", views.pay_invoice, name="pay_invoice"),
    path("pay/t/<str:token>/", views.pay_trust_request, name="pay_trust_request"),
    path("pay/sandbox/<str:session_id>/", views.sandbox_checkout, name="sandbox_checkout"),
]
