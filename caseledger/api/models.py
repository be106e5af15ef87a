from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotentRequest(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key`` header, per user and key.

    A retry with the same key and the same body gets this response again; the same key with
    another body is refused (409). Written in the same transaction as the write it answers, so a
    failed write leaves no row and may be retried."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    body_hash = models.CharField(max_length=64)  # SHA-256 of method, path and canonical body
    status_code = models.PositiveSmallIntegerField(default=0)  # 0 while the first is running
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotent_user_key"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
