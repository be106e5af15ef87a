from django.db import models


class Role(models.TextChoices):
    ADMIN = "ADMIN", "Administrator"
    PARTNER = "PARTNER", "Partner"
    ATTORNEY = "ATTORNEY", "Attorney"
    PARALEGAL = "PARALEGAL", "Paralegal"
    BILLING = "BILLING", "Billing (finance)"
    OPERATIONS = "OPERATIONS", "Operations"
    CLIENT = "CLIENT", "Client (portal)"


STAFF_ROLES = frozenset(r for r in Role if r != Role.CLIENT)
LAWYER_ROLES = frozenset({Role.PARTNER, Role.ATTORNEY})


class RoundingRule(models.TextChoices):
    HALF_UP = "HALF_UP", "Half up"
    HALF_EVEN = "HALF_EVEN", "Half even (banker's)"
    UP = "UP", "Always up"
    DOWN = "DOWN", "Always down"


class OutboxStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SENDING = "SENDING", "Sending"
    SENT = "SENT", "Sent"
    FAILED = "FAILED", "Failed (will retry)"
    DEAD = "DEAD", "Failed (gave up)"
