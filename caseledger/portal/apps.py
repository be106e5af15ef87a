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

        from caseledger.core.i18n import register_user_language
        from caseledger.portal.services import portal_user_language

        # Core's two-factor enrolment and code pages read in the client's language.
        register_user_language(Role.CLIENT, portal_user_language)

        from caseledger.credits.hooks import register_approval_gate
        from caseledger.portal.policy import approval_gate

        # A credit note refunding the client waits for the client's authorization in the portal.
        register_approval_gate(approval_gate)
