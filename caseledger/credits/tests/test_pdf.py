"""The credit note PDF read back as text: long names and descriptions whole, the invoice it
corrects, the lines and how the credit was applied."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.clients.tests.factories import make_beneficiary, make_company
from caseledger.core.tests.pdf_text import long_name, pdf_text
from caseledger.credits.choices import ReasonCode
from caseledger.credits.pdf import render_credit_note_pdf
from caseledger.credits.services import LineInput, credit_note_request
from caseledger.credits.tests import factories as F
from caseledger.matters.tests.factories import make_matter

pytestmark = pytest.mark.django_db

LONG_CLIENT = long_name("Northwind")
LONG_BENEFICIARY = long_name("Anushka")
LONG_MATTER = long_name("Petition")
LONG_LINE = (
    "Premium processing (Form I-907) requested on the engagement letter but not filed, "
    "because USCIS suspended premium processing for this classification during the period"
)


def test_credit_note_pdf_prints_names_lines_and_amounts_whole(users, now):
    client = make_company(name=LONG_CLIENT)
    matter = make_matter(
        client=client,
        beneficiary=make_beneficiary(client=client, name=LONG_BENEFICIARY),
        title=LONG_MATTER,
    )
    inv = F.invoice(matter_obj=matter, cents=100_000, issued=date(2026, 9, 1))
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.SCOPE_CHANGE,
        reason_text="Premium processing was not available for this petition",
        lines=[LineInput(LONG_LINE, 28_050), LineInput("RFE preparation not needed", 5_000)],
        actor=users["BILLING"],
        now=now,
    )
    text = pdf_text(render_credit_note_pdf(note))
    for whole in (LONG_CLIENT, LONG_BENEFICIARY, LONG_MATTER, LONG_LINE):
        assert whole in text
    assert "…" not in text
    assert f"Credit note no. {note.number}" in text
    assert f"Corrects Invoice {inv.number} of Sep 1, 2026" in text
    assert "Premium processing was not available for this petition" in text
    assert "$280.50" in text
    assert "Total credited $330.50" in text
    assert "Taken off the invoice balance $330.50" in text
    assert "Added to your account credit $0.00" in text


def test_a_spanish_clients_credit_note_is_in_spanish(users, now):
    client = make_company(name="Constructora Villaseñor, S.A.", preferred_language="es")
    matter = make_matter(
        client=client,
        beneficiary=make_beneficiary(client=client, name="María Fernanda Rodríguez"),
        title="Petición H-1B",
    )
    inv = F.invoice(matter_obj=matter, cents=100_000, issued=date(2026, 9, 1))
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.SCOPE_CHANGE,
        reason_text="",
        lines=[LineInput("Preparación de respuesta a RFE no necesaria", 5_000)],
        actor=users["BILLING"],
        now=now,
    )
    text = pdf_text(render_credit_note_pdf(note))
    assert "NOTA DE CRÉDITO" in text
    assert f"Nota de crédito n.º {note.number}" in text
    assert f"Corrige Factura {inv.number} del 1 sept. 2026" in text
    assert "Motivo Cambio en el alcance del trabajo" in text
    assert "Total acreditado $50.00" in text
    assert "Descontado del saldo de la factura $50.00" in text
    assert "Credit note" not in text
    assert "Total credited" not in text
