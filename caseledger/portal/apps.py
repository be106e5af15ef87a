from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "caseledger.portal"
    label = "portal"
    verbose_name = "Client portal"

    def ready(self) -> None:
        from caseledger.core.choices import Role
        from caseledger.core.home import register_landing

        # A client who signs in (or opens "/") lands on the portal, not the staff home page.
        register_landing(Role.CLIENT, "portal:home")
