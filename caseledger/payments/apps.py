from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "caseledger.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from caseledger.payments import receivers

        receivers.connect()
