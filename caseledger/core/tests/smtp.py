"""Test plumbing for the outbox: a real SMTP server (aiosmtpd) that counts what lands, and an
SMTP backend that "dies" mid-send (a BaseException, as a kill would: nothing after it runs).

``SmtpInbox.kill_pid`` / ``kill_at``: the server SIGKILLs that process when message number
``kill_at`` arrives, after taking it in and before answering 250: the sender dies between the
server accepting the message and recording it sent (the window a Message-ID makes visible)."""

from __future__ import annotations

import os
import signal
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from typing import Any

from django.core.mail.backends.smtp import EmailBackend as SMTPBackend


class SmtpInbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.kill_pid: int | None = None
        self.kill_at: int | None = None
        self.refuse: set[str] = set()  # recipients answered 550

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        if self.kill_pid is not None and len(self.messages) == self.kill_at:
            os.kill(self.kill_pid, signal.SIGKILL)
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]

    def to(self) -> list[str]:
        return [str(m["To"]) for m in self.messages]

    def counts(self, due_message_ids: list[str]) -> dict[str, int]:
        """The crash-test figures: messages due, delivered (distinct), lost, resends of a
        delivered message (always with its one Message-ID), messages the server saw that were
        not due."""
        seen = Counter(self.message_ids())
        due = set(due_message_ids)
        return {
            "due": len(due),
            "delivered": len(due & set(seen)),
            "missing": len(due - set(seen)),
            "resent_same_message_id": sum(n - 1 for mid, n in seen.items() if mid in due),
            "unexpected": sum(n for mid, n in seen.items() if mid not in due),
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(settings: Any) -> Iterator[tuple[SmtpInbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox, port
    finally:
        controller.stop()


class SimulatedCrash(BaseException):
    """What a kill looks like to the code: not an Exception, so no handler records anything."""


CRASH: dict[str, Any] = {"after": None, "when": "after_accept", "sent": 0}


class CrashingSMTPBackend(SMTPBackend):
    """The real SMTP backend, until ``CRASH["after"]`` messages went out: then the process
    "dies", either before handing the next message to the server ("before_send") or just after
    the server accepted it ("after_accept", before the outbox can record it)."""

    def send_messages(self, email_messages: Any) -> int:
        after = CRASH["after"]
        if after is not None and CRASH["when"] == "before_send" and CRASH["sent"] >= after:
            raise SimulatedCrash("killed before the send")
        sent = int(super().send_messages(email_messages))
        CRASH["sent"] += sent
        if after is not None and CRASH["when"] == "after_accept" and CRASH["sent"] > after:
            raise SimulatedCrash("killed after the server accepted the message")
        return sent


@contextmanager
def crash_after(settings: Any, n: int, when: str) -> Iterator[None]:
    CRASH.update(after=n, when=when, sent=0)
    settings.EMAIL_BACKEND = "caseledger.core.tests.smtp.CrashingSMTPBackend"
    try:
        yield
    finally:
        CRASH.update(after=None, sent=0)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
