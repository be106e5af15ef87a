from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("caseledger.api.urls")),
    path("trust/", include("caseledger.trust.urls")),
    path("", include("caseledger.payments.urls")),
    path("", include("caseledger.core.urls")),
]
