from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from caseledger.core import clock


def _after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After migrate or a test flush: forget cached account ids and make sure the chart exists
    (a flush empties it; the data migration only runs once)."""

    from caseledger.ledger.services import accounts_cache_clear, chart_ensure

    accounts_cache_clear()
    if using == "default":
        chart_ensure(now=clock.now())


class LedgerConfig(AppConfig):
    name = "caseledger.ledger"
    label = "ledger"
    verbose_name = "Ledger"

    def ready(self) -> None:
        from caseledger.core.amounts import register_money_recorded_check
        from caseledger.ledger.selectors import postings_exist

        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="ledger_chart_ensure")
        # The firm's currency is fixed once anything is posted (core.amounts).
        register_money_recorded_check(postings_exist)
