from django.urls import path

from caseledger.api.api import api

urlpatterns = [path("", api.urls)]
