from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("caseledger.api.urls")),
    path("ledger/", include("caseledger.ledger.urls")),
    path("", include("caseledger.core.urls")),
]
