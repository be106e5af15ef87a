from django.contrib.auth import views as auth_views
from django.urls import path

from caseledger.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("_baseline/", views.baseline, name="baseline"),
    path("waiting/", views.waiting, name="waiting"),
    # Login, two-factor, logout, password reset
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # Profile
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.password_change, name="password_change"),
    path("profile/two-factor/", views.two_factor_enrol, name="two_factor_enrol"),
    path("profile/two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("profile/tokens/", views.api_token_create, name="api_token_create"),
    path("profile/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    # Administration
    path("settings/firm/", views.firm_settings, name="firm_settings"),
    path("settings/firm/two-factor/", views.firm_two_factor_toggle, name="firm_two_factor"),
    path("settings/people/", views.users, name="users"),
    path("settings/people/invite/", views.user_invite, name="user_invite"),
    path("settings/people/<int:pk>/", views.user_detail, name="user_detail"),
    path("settings/people/<int:pk>/role/", views.user_role, name="user_role"),
    path("settings/people/<int:pk>/active/", views.user_active, name="user_active"),
    path("settings/people/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path("audit/", views.audit_log, name="audit"),
    path("help/img/<str:name>", views.help_image, name="help_image"),
    path("help/<slug:guide>/", views.help_guide, name="help"),
    path("outbox/", views.outbox_list, name="outbox"),
    path("outbox/<int:pk>/retry/", views.outbox_retry, name="outbox_retry"),
]
