from django.urls import path

from caseledger.banking import views

app_name = "banking"

urlpatterns = [
    path("", views.account_list, name="accounts"),
    path("accounts/new/", views.account_new, name="account_new"),
    path("accounts/<int:pk>/", views.account_detail, name="account"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:pk>/import/", views.import_upload, name="import_upload"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("imports/<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("accounts/<int:pk>/matching/", views.matching_workbench, name="matching"),
    path("accounts/<int:pk>/matching/accept/", views.matching_accept, name="matching_accept"),
    path("lines/<int:pk>/", views.line_detail, name="line"),
    path("lines/<int:pk>/match/", views.line_match, name="line_match"),
    path("lines/<int:pk>/unmatch/", views.line_unmatch, name="line_unmatch"),
    path("lines/<int:pk>/resolve/", views.line_resolve, name="line_resolve"),
]
