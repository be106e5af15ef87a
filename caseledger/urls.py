from django.urls import include, path

urlpatterns = [
    path("", include("caseledger.core.urls")),
]
