from django.urls import path

from caseledger.matters import views

app_name = "matters"

urlpatterns = [
    path("", views.matter_list, name="list"),
    path("new/", views.matter_create, name="create"),
    path("<int:pk>/", views.matter_detail, name="detail"),
    path("<int:pk>/edit/", views.matter_edit, name="edit"),
    path("<int:pk>/advance/", views.matter_advance, name="advance"),
    path("<int:pk>/hold/", views.matter_hold, name="hold"),
    path("<int:pk>/lift/", views.matter_lift, name="lift"),
    path("<int:pk>/receipts/", views.receipt_add, name="receipt_add"),
    path("<int:pk>/deadlines/", views.deadline_add, name="deadline_add"),
    path("<int:pk>/tasks/", views.task_add, name="task_add"),
    path("deadlines/<int:pk>/met/", views.deadline_met, name="deadline_met"),
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("case-types/", views.case_types, name="case_types"),
    path("case-types/new/", views.case_type_edit, name="case_type_create"),
    path("case-types/<int:pk>/", views.case_type_edit, name="case_type_edit"),
]
