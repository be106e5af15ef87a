from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "caseledger.credits"
    label = "credits"
    verbose_name = "Credit notes, refunds and write-offs"
