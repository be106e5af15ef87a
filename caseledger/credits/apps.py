from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "caseledger.credits"
    label = "credits"
    verbose_name = "Credit notes, refunds and write-offs"

    def ready(self) -> None:
        from caseledger.billing.hooks import register_invoice_activity_listener
        from caseledger.credits.selectors import invoice_credit_activity, invoice_refunded_cents
        from caseledger.credits.services import (
            card_refund_follow,
            trust_refund_follow_disbursement,
        )
        from caseledger.payments.hooks import (
            register_card_refund_listener,
            register_invoice_refunds_provider,
        )
        from caseledger.trust.hooks import register_disbursement_listener

        register_disbursement_listener(trust_refund_follow_disbursement)
        register_invoice_refunds_provider(invoice_refunded_cents)
        register_card_refund_listener(card_refund_follow)
        register_invoice_activity_listener(invoice_credit_activity)
