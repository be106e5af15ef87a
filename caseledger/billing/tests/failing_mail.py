"""An email backend for tests that fails while ``FAIL`` is set (a real transport error path)."""

from __future__ import annotations

from typing import Any

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

FAIL = {"on": False}


class FlakyBackend(LocmemBackend):
    def send_messages(self, messages: Any) -> int:
        if FAIL["on"]:
            raise ConnectionRefusedError("SMTP server refused the connection")
        return int(super().send_messages(messages))
