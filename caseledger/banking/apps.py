from django.apps import AppConfig


class BankingConfig(AppConfig):
    name = "caseledger.banking"
    label = "banking"
    verbose_name = "Bank accounts and statements"
