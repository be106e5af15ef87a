from django.apps import AppConfig


class MattersConfig(AppConfig):
    name = "caseledger.matters"
    label = "matters"
