from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "caseledger.core"
    label = "core"
    verbose_name = "CaseLedger core"

    def ready(self) -> None:
        from caseledger.core import permissions

        permissions.load_app_capabilities()

        from django.contrib.auth.signals import user_logged_in

        from caseledger.core.observability import connect_job_signals
        from caseledger.core.security import mark_activity_at_login

        connect_job_signals()
        user_logged_in.connect(mark_activity_at_login, dispatch_uid="caseledger.idle_mark")
