"""One-time tokens of money forms: a form submitted twice records its money once."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from caseledger.payments.models import (
    FormSubmission,
)


def form_token_consume(token: str, user: object, path: str, now: datetime) -> bool:
    """Record a money form's one-time token (``core.forms.handle_form`` calls this inside the
    write's transaction). False when it was already used: the first submit recorded the money,
    this one must record nothing. On PostgreSQL a concurrent second insert waits for the first
    transaction and then fails on the unique key."""
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            FormSubmission.objects.create(
                token=token[:64], user_id=user_id, path=path[:300], created_at=now
            )
    except IntegrityError:
        return False
    return True
