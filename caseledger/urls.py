from django.urls import include, path

from caseledger.api.urls import fallback_urlpatterns as api_fallback

urlpatterns = [
    path("api/v1/", include("caseledger.api.urls")),
    *api_fallback,
    path("ledger/", include("caseledger.ledger.urls")),
    path("billing/", include("caseledger.billing.urls")),
    path("credits/", include("caseledger.credits.urls")),
    path("collections/", include("caseledger.collections.urls")),
    path("reports/", include("caseledger.reports.urls")),
    path("imports/", include("caseledger.imports.urls")),
    path("clients/", include("caseledger.clients.urls")),
    path("trust/", include("caseledger.trust.urls")),
    path("banking/", include("caseledger.banking.urls")),
    path("portal/", include("caseledger.portal.urls")),
    path("", include("caseledger.payments.urls")),
    path("", include("caseledger.matters.urls")),
    path("", include("caseledger.core.urls")),
]

# Pages get our templates; /api/ paths get JSON (no stack traces, whatever DEBUG says).
handler404 = "caseledger.core.views.error_404"
handler500 = "caseledger.core.views.error_500"
