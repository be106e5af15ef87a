from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "caseledger.collections"
    label = "collections"
    verbose_name = "Collections"

    def ready(self) -> None:
        from caseledger.collections import receivers
        from caseledger.collections.services.delivery import (
            REMINDER_KIND,
            reminder_on_dead,
            reminder_on_sent,
        )
        from caseledger.core import outbox

        receivers.connect()
        outbox.register_sent_listener(REMINDER_KIND, reminder_on_sent)
        outbox.register_dead_listener(REMINDER_KIND, reminder_on_dead)
