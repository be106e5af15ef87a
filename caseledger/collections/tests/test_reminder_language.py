"""Reminders reach a client in the client's language: the default stages' texts have their
Spanish in the collections catalog, the due date is written out in Spanish, and the message
goes through the real SMTP server (issue 17)."""

from __future__ import annotations

from datetime import date, timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest

from caseledger.collections.models import PolicyStage
from caseledger.collections.services import collections_run
from caseledger.credits.tests import factories as F

DUE = date(2026, 8, 1)


def _subject(message: Any) -> str:
    return str(make_header(decode_header(str(message["Subject"]))))


def _body(message: Any) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return str(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"))


def _overdue(language: str) -> Any:
    owner = F.client(corporate=True, preferred_language=language)
    matter = F.matter(client_obj=owner)
    return F.invoice(matter_obj=matter, cents=50_000, issued=DUE - timedelta(days=30), due=DUE)


@pytest.mark.django_db
def test_a_spanish_clients_reminder_is_in_spanish_and_an_english_clients_in_english(smtp, now):
    spanish = _overdue("es")
    english = _overdue("en")
    collections_run(run_date=DUE + timedelta(days=8), now=now)
    by_to = {str(m["To"]): m for m in smtp.messages}
    assert set(by_to) == {spanish.client.email, english.client.email}

    es = by_to[spanish.client.email]
    assert _subject(es) == f"Recordatorio: la factura {spanish.number} está vencida"
    body = _body(es)
    assert body.startswith(f"Estimado(a) {spanish.client.name}:")
    assert "venció el 1 de agosto de 2026" in body
    assert "El saldo pendiente es de $500.00." in body
    assert "Dear" not in body
    assert "August" not in body

    en = by_to[english.client.email]
    assert _subject(en) == f"Reminder: invoice {english.number} is past due"
    assert "was due on August 1, 2026. The balance due is $500.00." in _body(en)


@pytest.mark.django_db
def test_a_stage_the_firm_rewrote_is_sent_as_written(smtp, now):
    spanish = _overdue("es")
    collections_run(run_date=DUE - timedelta(days=1), now=now)  # the default policy exists
    PolicyStage.objects.filter(code="friendly").update(
        subject="Aviso de {firm}: factura {invoice}", body="Hola {client}, vence {due_date}."
    )
    collections_run(run_date=DUE + timedelta(days=8), now=now)
    (message,) = smtp.messages
    assert _subject(message).startswith("Aviso de ")
    assert _subject(message).endswith(f": factura {spanish.number}")
    assert _body(message).strip() == f"Hola {spanish.client.name}, vence 1 de agosto de 2026."


@pytest.mark.django_db
def test_a_spanish_clients_formal_notice_letter_is_in_spanish(smtp, now):
    from caseledger.collections.choices import Channel
    from caseledger.collections.models import Reminder
    from caseledger.collections.pdf import render_reminder_letter
    from caseledger.core.tests.pdf_text import pdf_text

    spanish = _overdue("es")
    collections_run(run_date=DUE + timedelta(days=31), now=now)
    (message,) = smtp.messages
    assert _subject(message) == f"Aviso formal: la factura {spanish.number} tiene 31 días de atraso"
    letter = Reminder.objects.get(invoice=spanish, channel=Channel.LETTER)
    text = pdf_text(render_reminder_letter(letter))
    assert "AVISO FORMAL" in text
    assert f"Factura n.º {spanish.number}" in text
    assert "Fecha de vencimiento 1 ago. 2026" in text
    assert "Saldo pendiente $500.00" in text
    assert f"Asunto: Aviso formal: la factura {spanish.number}" in text
    assert "Pague en línea" in text
    assert "Balance due" not in text
