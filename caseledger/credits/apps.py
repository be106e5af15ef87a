from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "caseledger.credits"
    label = "credits"
    verbose_name = "Credit notes, refunds and write-offs"

    def ready(self) -> None:
        from caseledger.credits.services import trust_refund_follow_disbursement
        from caseledger.trust.hooks import register_disbursement_listener

        register_disbursement_listener(trust_refund_follow_disbursement)
