from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("caseledger.api.urls")),
    path("ledger/", include("caseledger.ledger.urls")),
    path("credits/", include("caseledger.credits.urls")),
    path("collections/", include("caseledger.collections.urls")),
    path("", include("caseledger.core.urls")),
]
