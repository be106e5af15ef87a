"""Trust receipt and statement PDFs, read back as text: long names whole, every movement's
description whole, amounts and the balance."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.clients.tests.factories import make_beneficiary, make_company
from caseledger.core.tests.pdf_text import long_name, pdf_text
from caseledger.matters.tests.factories import make_matter
from caseledger.trust import pdf, selectors
from caseledger.trust.services import deposit_record

pytestmark = pytest.mark.django_db

LONG_CLIENT = long_name("Northwind")
LONG_BENEFICIARY = long_name("Anushka")
LONG_MATTER = long_name("Petition")


def long_matter():
    client = make_company(name=LONG_CLIENT)
    beneficiary = make_beneficiary(client=client, name=LONG_BENEFICIARY)
    return make_matter(client=client, beneficiary=beneficiary, title=LONG_MATTER)


def deposit(matter, now, cents, payer="Northwind Analytics Treasury Operations Department"):
    return deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer=payer,
        reference="FEDWIRE 20261001-000123",
        amount_cents=cents,
        received_date=date(2026, 10, 1),
        actor=None,
        now=now,
    )


def test_receipt_prints_long_names_whole_and_the_amount(now):
    matter = long_matter()
    text = pdf_text(pdf.receipt_pdf(deposit(matter, now, 1_234_567)))
    for whole in (LONG_CLIENT, LONG_BENEFICIARY, LONG_MATTER):
        assert whole in text
    assert "…" not in text
    assert "TRUST RECEIPT" in text
    assert "Deposited to your trust account $12,345.67" in text
    assert "Received from Northwind Analytics Treasury Operations Department" in text
    assert "Method Wire transfer, FEDWIRE 20261001-000123" in text
    assert "Date received October 1, 2026" in text


def test_statement_wraps_descriptions_and_shows_the_balance(now):
    matter = long_matter()
    payer = "The Guadalupe Santos Oliveira Family Trust, by its trustee Fernanda Castellanos"
    deposit(matter, now, 250_000, payer=payer)
    deposit(matter, now, 50_000)
    lines = selectors.client_trust_movements(matter.client)
    text = pdf_text(pdf.statement_pdf(matter.client, lines, date(2026, 11, 2)))
    for whole in (LONG_CLIENT, LONG_BENEFICIARY, LONG_MATTER):
        assert whole in text
    assert f"Received from {payer} (Wire)" in text  # the description, not clipped
    assert "$2,500.00" in text
    assert "$3,000.00" in text  # the running balance after the second deposit
    assert "Balance held in trust $3,000.00" in text
    assert "…" not in text


def test_statement_without_activity(now):
    client = make_company()
    text = pdf_text(pdf.statement_pdf(client, [], date(2026, 11, 2)))
    assert "No trust activity." in text
    assert "Balance held in trust $0.00" in text


def test_a_spanish_clients_receipt_statement_and_notice_are_in_spanish(now):
    from caseledger.core.models import OutboxMessage

    client = make_company(name="Constructora Villaseñor, S.A.", preferred_language="es")
    matter = make_matter(
        client=client,
        beneficiary=make_beneficiary(client=client, name="María Fernanda Rodríguez"),
        title="Petición H-1B",
    )
    row = deposit(matter, now, 250_000)
    text = pdf_text(pdf.receipt_pdf(row))
    assert "RECIBO DE FIDEICOMISO" in text
    assert "Fecha de recepción 1 de octubre de 2026" in text
    assert "Forma de pago Transferencia electrónica (wire), FEDWIRE 20261001-000123" in text
    assert "Depositado en fideicomiso $2,500.00" in text
    assert "cuenta fiduciaria para clientes (IOLTA)" in text
    assert "Página 1" in text
    assert "TRUST RECEIPT" not in text
    lines = selectors.client_trust_movements(client)
    text = pdf_text(pdf.statement_pdf(client, lines, date(2026, 11, 2)))
    assert "ESTADO DE CUENTA DE FIDEICOMISO" in text
    assert "Fecha de corte 2 nov. 2026" in text
    assert "A su nombre al 2 de noviembre de 2026" in text
    assert "Saldo en fideicomiso $2,500.00" in text
    assert "FECHA CASO DESCRIPCIÓN REF. ENTRADAS SALIDAS SALDO" in text  # no header wraps
    assert "Balance held in trust" not in text
    notice = OutboxMessage.objects.get(kind="trust.receipt", related_id=row.pk)
    assert f": recibo de fideicomiso {row.receipt_number}" in notice.subject
    assert notice.body.startswith("Estimado(a) Constructora Villaseñor, S.A.:")
    assert "Recibimos $2,500.00 de Northwind Analytics" in notice.body
    assert "el 1 de octubre de 2026 (Transferencia electrónica (wire), FEDWIRE" in notice.body
    assert "We received" not in notice.body
