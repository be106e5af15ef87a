from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "caseledger.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from caseledger.ledger import hooks
        from caseledger.payments.hooks import register_receipt_listener
        from caseledger.reports.summary import on_postings, on_receipt

        hooks.register_posting_listener(on_postings)
        register_receipt_listener(on_receipt)
