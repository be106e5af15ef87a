from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "caseledger.billing"
    label = "billing"
