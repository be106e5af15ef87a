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

        from caseledger.credits.hooks import register_approval_gate
        from caseledger.portal.policy import approval_gate

        # A credit note refunding the client waits for the client's authorization in the portal.
        register_approval_gate(approval_gate)
