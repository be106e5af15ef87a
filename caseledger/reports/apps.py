from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "caseledger.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from caseledger.clients import hooks as client_hooks
        from caseledger.ledger import hooks
        from caseledger.matters import hooks as matter_hooks
        from caseledger.payments.hooks import register_receipt_listener
        from caseledger.reports.summary import (
            on_client_regroup,
            on_matter_regroup,
            on_postings,
            on_receipt,
        )

        hooks.register_posting_listener(on_postings)
        register_receipt_listener(on_receipt)
        client_hooks.register_regroup_listener(on_client_regroup)
        matter_hooks.register_regroup_listener(on_matter_regroup)
