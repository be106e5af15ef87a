from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "caseledger.collections"
    label = "collections"
    verbose_name = "Collections"

    def ready(self) -> None:
        from caseledger.collections import receivers

        receivers.connect()
