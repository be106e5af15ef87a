from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("caseledger.api.urls")),
    path("billing/", include("caseledger.billing.urls")),
    path("", include("caseledger.core.urls")),
]
