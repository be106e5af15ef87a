from django.urls import path

from caseledger.clients import views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/edit/", views.client_edit, name="edit"),
    path("<int:pk>/reveal/", views.client_reveal, name="reveal"),
    path("<int:pk>/contacts/", views.contact_add, name="contact_add"),
    path("<int:pk>/contacts/<int:contact_pk>/remove/", views.contact_remove, name="contact_remove"),
    path("<int:pk>/beneficiaries/new/", views.beneficiary_create, name="beneficiary_create"),
    path("beneficiaries/<int:pk>/edit/", views.beneficiary_edit, name="beneficiary_edit"),
    path("beneficiaries/<int:pk>/reveal/", views.beneficiary_reveal, name="beneficiary_reveal"),
]
