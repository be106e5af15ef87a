from django.urls import path

from caseledger.ledger import views

app_name = "ledger"

urlpatterns = [
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/trust-bank/", views.trust_bank_create, name="trust_bank_create"),
    path("accounts/<str:code>/", views.account_ledger, name="account_ledger"),
    path("accounts/<str:code>/active/", views.account_toggle, name="account_toggle"),
    path("trial-balance/", views.trial_balance, name="trial_balance"),
    path("entries/<int:entry_id>/", views.entry_detail, name="entry_detail"),
    path("trust/", views.trust_ledgers, name="trust_ledgers"),
    path("trust/<int:client_id>/", views.client_trust_ledger, name="client_trust_ledger"),
]
