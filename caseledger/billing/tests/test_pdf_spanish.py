"""A client whose preferred language is Spanish gets the invoice PDF and its email in Spanish,
with Spanish dates; an English client's stay English (issue 17)."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from caseledger.billing import services
from caseledger.billing.models import InvoicePdf
from caseledger.billing.tests.factories import approved_draft
from caseledger.clients.tests.factories import make_beneficiary, make_company
from caseledger.core.tests.pdf_text import pdf_pages, pdf_text
from caseledger.matters.tests.factories import make_matter

pytestmark = pytest.mark.django_db


def issue(world: Any, *, language: str, terms_days: int = 30) -> Any:
    client = make_company(
        name="Constructora Hermanos Villaseñor de Centroamérica y el Caribe, S.A. de C.V.",
        email="cuentas@villasenor.example",
        address_line1="1200 Avenida de las Américas, Oficina 4500",
        city="Miami",
        region="FL",
        postal_code="33131",
        payment_terms_days=terms_days,
        preferred_language=language,
    )
    matter = make_matter(
        client=client,
        beneficiary=make_beneficiary(client=client, name="María Fernanda Rodríguez Gutiérrez"),
        title="Petición H-1B de transferencia de empleador",
    )
    invoice = approved_draft(world, matter=matter)
    invoice = services.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    invoice.refresh_from_db()
    return invoice


def test_a_spanish_clients_invoice_pdf_is_in_spanish_with_spanish_dates(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = issue(world, language="es")
    assert (invoice.issue_date, invoice.due_date) == (date(2026, 11, 2), date(2026, 12, 2))
    content = bytes(InvoicePdf.objects.get(invoice=invoice).content)
    text = pdf_text(content)
    assert "FACTURA" in text
    assert f"Factura n.º {invoice.number}" in text
    assert "Fecha de emisión 2 nov. 2026 Fecha de vencimiento 2 dic. 2026" in text
    assert "Condiciones A 30 días" in text
    assert "A 30 días: el pago vence el 2 de diciembre de 2026." in text
    assert "FACTURAR A" in text
    assert "CASO" in text
    assert "Beneficiario: María Fernanda Rodríguez Gutiérrez" in text
    assert "Subtotal de honorarios legales $3,500.00" in text
    assert "Subtotal de tarifas gubernamentales y gastos $2,780.00" in text
    assert "Total a pagar $6,280.00" in text
    assert "Fondos en fideicomiso (IOLTA) disponibles para este caso: $0.00" in text
    assert "Página 1" in text
    for english in ("Invoice no.", "Due date", "Total due", "Legal fees", "Page 1", "December"):
        assert english not in text, english
    # The email that carries it, in Spanish too.
    (message,) = mail.outbox
    assert message.subject.startswith(f"Factura {invoice.number} de ")
    assert "Adjuntamos la factura" in message.body
    assert "con vencimiento el 2 de diciembre de 2026" in message.body
    assert "Please find" not in message.body


def test_an_english_clients_invoice_stays_english(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = issue(world, language="en")
    text = pdf_text(bytes(InvoicePdf.objects.get(invoice=invoice).content))
    assert "INVOICE" in text
    assert "Issue date Nov 2, 2026 Due date Dec 2, 2026 Terms Net 30" in text
    assert "Net 30: payment is due by December 2, 2026." in text
    assert "Total due $6,280.00" in text
    for spanish in ("FACTURA", "Fecha", "Total a pagar", "diciembre", "Página"):
        assert spanish not in text, spanish
    (message,) = mail.outbox
    assert message.subject.startswith(f"Invoice {invoice.number} from ")
    assert "due on December 2, 2026" in message.body


def test_spanish_due_on_receipt(world):
    invoice = issue(world, language="es", terms_days=0)
    text = pdf_text(bytes(InvoicePdf.objects.get(invoice=invoice).content))
    assert "Condiciones Vence al recibirse" in text
    assert "Vence al recibirse (2 de noviembre de 2026)." in text


def test_the_spanish_invoice_renders_to_an_image(world, tmp_path: Path):
    """The page rasterizes (pdftoppm) and stays one page: the longer Spanish labels neither
    overflow it nor push it onto a second."""
    invoice = issue(world, language="es")
    content = bytes(InvoicePdf.objects.get(invoice=invoice).content)
    assert pdf_pages(content) == 1
    source = tmp_path / "factura.pdf"
    source.write_bytes(content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(source), str(tmp_path / "page")], check=True
    )
    assert (tmp_path / "page-1.png").stat().st_size > 10_000
