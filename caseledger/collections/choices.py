from django.db import models


class Channel(models.TextChoices):
    EMAIL = "EMAIL", "Email"
    LETTER = "LETTER", "Letter (PDF)"
    # The stage's non-message actions (task, escalation, hold) keyed like a message.
    ACTIONS = "ACTIONS", "Task / escalation / hold"


class ReminderStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    SENT = "SENT", "Sent"
    FAILED = "FAILED", "Failed (gave up; see the outbox)"
    LETTER_READY = "LETTER_READY", "Letter ready to print"
    DONE = "DONE", "Done"
    SUPPRESSED = "SUPPRESSED", "Suppressed"


class ActivityKind(models.TextChoices):
    MANUAL_REMINDER = "MANUAL_REMINDER", "Manual reminder"
    PROMISE_TO_PAY = "PROMISE_TO_PAY", "Promise to pay"
    NOTE = "NOTE", "Note"


class RunStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    FINISHED = "FINISHED", "Finished"
    FAILED = "FAILED", "Failed"


class HoldStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "On hold"
    LIFTED = "LIFTED", "Lifted"
