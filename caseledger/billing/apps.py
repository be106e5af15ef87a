from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "caseledger.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from caseledger.billing.services.triggers import on_stage_event
        from caseledger.matters.hooks import register_stage_listener

        register_stage_listener(on_stage_event)
