from django.urls import path

from caseledger.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("billing/", views.billing_board, name="billing"),
    path("operations/", views.operations_board, name="operations"),
    path("attorney/", views.attorney_board, name="attorney"),
    path("rows/<slug:kind>/", views.drill, name="drill"),
    path("cohorts/", views.cohorts, name="cohorts"),
    path("settings/", views.settings_edit, name="settings"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
]
