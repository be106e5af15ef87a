"""The client portal's own records: the message thread of each matter between the client and
the firm. Everything else the portal shows belongs to the apps below it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from caseledger.matters.models import Matter


class PortalMessage(models.Model):
    """One message in a matter's thread. ``from_client`` says which side wrote it (the author
    is a client portal user, or a member of the firm). Append-only: a message once sent stays."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="portal_messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_client = models.BooleanField()
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["matter", "created_at"])]

    def __str__(self) -> str:
        return f"message {self.pk} on {self.matter_id}"


class RefundAuthorization(models.Model):
    """The client's authorization of a credit note that returns money to them (its refund),
    given in the portal: who, when and from which IP address. The firm's approval of such a
    credit note waits for it (portal.policy). Append-only."""

    credit_note = models.OneToOneField(
        "credits.CreditNote", on_delete=models.PROTECT, related_name="client_authorization"
    )
    authorized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    authorized_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"authorization of credit note {self.credit_note_id}"
