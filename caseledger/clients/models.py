from __future__ import annotations

from django.conf import settings
from django.db import models

from caseledger.clients.choices import ClientKind, ClientType


class Client(models.Model):
    """A person or a company the firm bills."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=ClientKind.choices)
    client_type = models.CharField(max_length=12, choices=ClientType.choices)
    email = models.EmailField(blank=True)
    responsible_partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Portal logins that act for this client (role CLIENT).
    portal_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="portal_clients"
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name
