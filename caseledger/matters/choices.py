from django.db import models


class MatterStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    ON_HOLD = "ON_HOLD", "On hold"
    CLOSED = "CLOSED", "Closed"
