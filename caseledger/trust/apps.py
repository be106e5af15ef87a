from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "caseledger.trust"
    label = "trust"
    verbose_name = "Trust (IOLTA)"

    def ready(self) -> None:
        from caseledger.trust import bank_lines, receivers

        receivers.connect()
        bank_lines.connect()
