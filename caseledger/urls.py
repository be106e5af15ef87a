from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("caseledger.api.urls")),
    path("clients/", include("caseledger.clients.urls")),
    path("", include("caseledger.matters.urls")),
    path("", include("caseledger.core.urls")),
]
