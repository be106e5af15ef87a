from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "caseledger.core"
    label = "core"
    verbose_name = "CaseLedger core"

    def ready(self) -> None:
        from caseledger.core import permissions

        permissions.load_app_capabilities()

        from caseledger.core.observability import connect_job_signals

        connect_job_signals()
