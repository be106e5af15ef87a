from django.urls import path, re_path

from caseledger.api.api import api
from caseledger.api.views import not_found

urlpatterns = [path("", api.urls)]

# Mounted by caseledger/urls.py after the API: any other path under /api/ answers the API's JSON
# 404, with DEBUG on or off (Django's debug 404 page is HTML).
fallback_urlpatterns = [re_path(r"^api/", not_found, name="api_not_found")]
