from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "caseledger.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # Registers the invoice PDF attachment renderer with core.outbox.
        import caseledger.billing.services.emails  # noqa: F401
        from caseledger.billing.hooks import register_invoice_issued_listener
        from caseledger.billing.services.budget import (
            budget_on_invoice_issued,
            matter_billed_cents,
        )
        from caseledger.billing.services.triggers import on_stage_event
        from caseledger.matters.hooks import register_billed_amount, register_stage_listener

        register_stage_listener(on_stage_event)
        register_billed_amount(matter_billed_cents)
        register_invoice_issued_listener(budget_on_invoice_issued)
