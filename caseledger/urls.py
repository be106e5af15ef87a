from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("caseledger.api.urls")),
    path("", include("caseledger.core.urls")),
]
