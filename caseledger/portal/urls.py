from django.urls import path

from caseledger.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/messages/", views.message_post, name="message_post"),
    path("documents/<str:token>/", views.document_download, name="document_download"),
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/pay/", views.invoices_pay, name="invoices_pay"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("trust/", views.trust, name="trust"),
    path("trust/requests/<int:pk>/pay/", views.trust_request_pay, name="trust_request_pay"),
    path("trust/statement.pdf", views.trust_statement, name="trust_statement"),
    path("credits/", views.credits, name="credits"),
    path("credits/<int:pk>/authorize/", views.refund_authorize, name="refund_authorize"),
    path("language/", views.language_set, name="language"),
    path("beneficiaries/", views.beneficiaries, name="beneficiaries"),
    path("beneficiaries/<int:pk>/access/", views.beneficiary_access, name="beneficiary_access"),
    path("staff/clients/<int:pk>/invite/", views.invite, name="invite"),
    path("staff/matters/<int:pk>/reply/", views.staff_reply, name="staff_reply"),
    path(
        "staff/matters/<int:pk>/invite-beneficiary/",
        views.invite_beneficiary,
        name="invite_beneficiary",
    ),
    path(
        "staff/matters/<int:pk>/beneficiary-access/",
        views.staff_beneficiary_access,
        name="staff_beneficiary_access",
    ),
]
