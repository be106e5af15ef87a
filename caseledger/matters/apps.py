from django.apps import AppConfig


class MattersConfig(AppConfig):
    name = "caseledger.matters"
    label = "matters"

    def ready(self) -> None:
        from caseledger.clients.hooks import register_client_matters_provider
        from caseledger.matters.selectors import ClientMatters

        register_client_matters_provider(ClientMatters)
