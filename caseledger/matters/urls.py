from django.urls import path

from caseledger.matters import views

app_name = "matters"

urlpatterns = [
    path("matters/", views.matter_list, name="list"),
    path("matters/new/", views.matter_create, name="create"),
    path("matters/<int:pk>/", views.matter_detail, name="detail"),
    path("matters/<int:pk>/edit/", views.matter_edit, name="edit"),
    path("matters/<int:pk>/advance/", views.matter_advance, name="advance"),
    path("matters/<int:pk>/hold/", views.matter_hold, name="hold"),
    path("matters/<int:pk>/lift/", views.matter_lift, name="lift"),
    path("matters/<int:pk>/budget/", views.matter_budget, name="budget"),
    path("matters/<int:pk>/receipts/", views.receipt_add, name="receipt_add"),
    path("matters/<int:pk>/deadlines/", views.deadline_add, name="deadline_add"),
    path("matters/<int:pk>/tasks/", views.task_add, name="task_add"),
    path("matters/<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("matters/documents/<int:pk>/", views.document_download, name="document_download"),
    path("matters/documents/<int:pk>/share/", views.document_share, name="document_share"),
    path("matters/documents/<int:pk>/unshare/", views.document_unshare, name="document_unshare"),
    path("matters/deadlines/<int:pk>/met/", views.deadline_met, name="deadline_met"),
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("case-types/", views.case_types, name="case_types"),
    path("case-types/new/", views.case_type_edit, name="case_type_create"),
    path("case-types/<int:pk>/", views.case_type_edit, name="case_type_edit"),
]
