from django.apps import AppConfig


class BankingConfig(AppConfig):
    name = "caseledger.banking"
    label = "banking"
    verbose_name = "Bank accounts and statements"

    def ready(self) -> None:
        from caseledger.banking.hooks import register_match_guard
        from caseledger.banking.reconciliation.services import match_guard

        register_match_guard(match_guard)
