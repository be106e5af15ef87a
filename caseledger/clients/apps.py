from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "caseledger.clients"
    label = "clients"
