from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "caseledger.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from caseledger.payments import checks, receivers

        del checks  # registered on import

        receivers.connect()
