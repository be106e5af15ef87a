"""Retention and legal hold: purge refused before the retention date and under a hold; after
it, no personal data is left and the ledger and audit chain still verify."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from caseledger.clients.models import Beneficiary, Client, Contact
from caseledger.core.models import AuditEvent
from caseledger.credits.tests import factories
from caseledger.imports import retention
from caseledger.imports.retention import RetentionRefused
from caseledger.matters.models import Matter
from caseledger.trust import services as trust

pytestmark = pytest.mark.django_db


def test_retention_settings_refuse_less_than_the_state_minimum(
    users: dict[str, Any], now: Any
) -> None:
    with pytest.raises(RetentionRefused, match=r"trust_years: NY requires at least 7 years"):
        retention.retention_settings_save(
            state="NY", trust_years=5, billing_years=7, matter_years=7, actor=None, now=now
        )
    with pytest.raises(RetentionRefused, match="state: ZZ is not in the table"):
        retention.retention_settings_save(
            state="ZZ", trust_years=5, billing_years=7, matter_years=7, actor=None, now=now
        )
    row = retention.retention_settings_save(
        state="NY", trust_years=7, billing_years=7, matter_years=6, actor=None, now=now
    )
    assert retention.retention_settings().pk == row.pk
    assert all(rule for _, rule in retention.STATE_TRUST_MINIMUMS.values())
    assert retention.STATE_TRUST_MINIMUMS["ABA"][0] == 5


def test_purge_of_a_closed_matter(users: dict[str, Any], now: Any) -> None:
    retention.retention_settings_save(
        state="NJ", trust_years=7, billing_years=6, matter_years=5, actor=None, now=now
    )
    matter = factories.matter(partner=users["PARTNER"])
    client = matter.client
    client.a_number = "A123456789"
    client.passport_number = "X1234567"
    client.email = "hr@acme.example"
    client.phone = "+1 212 555 0100"
    client.save()
    beneficiary = Beneficiary.objects.get(pk=matter.beneficiary_id)
    beneficiary.passport_number = "P7654321"
    beneficiary.a_number = "A987654321"
    beneficiary.save()
    Contact.objects.create(client=client, name="Pat Doe", email="pat@acme.example", created_at=now)
    trust.deposit_record(
        client=client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        amount_cents=100_000,
        received_date=date(2026, 10, 5),
        reference="W-9",
        actor=users["BILLING"],
        now=now,
    )
    with pytest.raises(RetentionRefused, match="is not closed"):
        retention.purge_plan(matter=matter, today=date(2040, 1, 1))
    closed = max(matter.opened_date, date(2026, 11, 2))
    Matter.objects.filter(pk=matter.pk).update(status="CLOSED", closed_date=closed)
    matter.refresh_from_db()
    until, reason = retention.retention_until(matter)
    assert until == closed.replace(year=closed.year + 7)  # trust, New Jersey: 7 years
    assert reason.startswith("trust records, NJ")
    eve = datetime.combine(until - timedelta(days=1), time(15), tzinfo=UTC)
    with pytest.raises(RetentionRefused, match=rf"kept until {until} .* refused on {eve.date()}"):
        retention.matter_purge(matter=matter, actor=users["ADMIN"], now=eve)
    hold = retention.legal_hold_place(
        client=client, reason="Subpoena 2033-17", actor=users["PARTNER"], now=now
    )
    later = datetime.combine(until + timedelta(days=1), time(15), tzinfo=UTC)
    with pytest.raises(RetentionRefused, match=r"legal hold \(Subpoena 2033-17\) is active"):
        retention.matter_purge(matter=matter, actor=users["ADMIN"], now=later)
    retention.legal_hold_release(hold=hold, actor=users["PARTNER"], now=now)

    plan = retention.purge_plan(matter=matter, today=later.date())
    assert plan.counts() == {"matter": 1, "beneficiary": 1, "client": 1, "contact": 1}
    assert Client.objects.get(pk=client.pk).name == client.name  # the dry run wrote nothing

    record = retention.matter_purge(matter=matter, actor=users["ADMIN"], now=later)

    client = Client.objects.get(pk=client.pk)
    assert client.name == f"Purged client C-{client.pk}"
    assert (client.a_number, client.passport_number, client.email, client.phone) == ("", "", "", "")
    assert client.a_number_hash == ""
    beneficiary = Beneficiary.objects.get(pk=beneficiary.pk)
    assert (beneficiary.a_number, beneficiary.passport_number) == ("", "")
    assert beneficiary.name.startswith("Purged beneficiary")
    assert Contact.objects.get(client=client).email == ""
    assert Matter.objects.get(pk=matter.pk).title == f"Purged matter {matter.number}"
    event = AuditEvent.objects.get(action="imports.matter_purged")
    assert "A123456789" not in str(event.after)
    assert record.removed["client"] == 1
    with pytest.raises(RetentionRefused, match="already purged"):
        retention.purge_plan(matter=matter, today=later.date())
    out = StringIO()
    call_command("verify", stdout=out)
    assert '"verify": "ok"' in out.getvalue()


def _issued_invoice(matter: Any, now: Any) -> Any:
    """An issued invoice addressed to ``matter``'s client (bill-to snapshot as printed), with
    its issue entry, its settlement row and a stored PDF naming the client."""
    import hashlib

    from caseledger.billing.models import Invoice, InvoiceLine, InvoicePdf
    from caseledger.ledger.tests import helpers as H
    from caseledger.payments.services import settlement_for

    client = matter.client
    inv = Invoice.objects.create(
        client=client,
        matter=matter,
        status="DRAFT",
        currency="USD",
        issue_date=date(2026, 9, 1),
        due_date=date(2026, 9, 1),
        subtotal_cents=50_000,
        total_cents=50_000,
        responsible_partner=matter.responsible_partner,
        bill_to_name=client.name,
        bill_to_address="1 Main St\nNewark NJ",
        bill_to_email=client.email,
        created_at=now,
    )
    InvoiceLine.objects.create(
        invoice=inv,
        position=1,
        kind="FEE",
        category="ATTORNEY_FEE",
        description="Legal services",
        quantity=1,
        unit_price_cents=50_000,
        amount_cents=50_000,
    )
    Invoice.objects.filter(pk=inv.pk).update(status="ISSUED", number="2026-R0001", issued_at=now)
    inv.refresh_from_db()
    H.issue_invoice(invoice=inv, cents=50_000, now=now, day=date(2026, 9, 1))
    settlement_for(inv)
    content = f"%PDF-1.4 Bill to {client.name}".encode()
    InvoicePdf.objects.create(
        invoice=inv, content=content, sha256=hashlib.sha256(content).hexdigest(), created_at=now
    )
    return inv


def test_purge_redacts_invoices_pdfs_and_audit_events(users: dict[str, Any], now: Any) -> None:
    from django.db import DatabaseError, transaction

    from caseledger.billing.models import Invoice, InvoicePdf
    from caseledger.core import audit

    matter = factories.matter(partner=users["PARTNER"])
    client = matter.client
    client.email = "hr@acme.example"
    client.save()
    name = client.name
    audit.record(
        actor=users["BILLING"],
        action="clients.client_updated",
        at=now,
        obj=client,
        after={"email": client.email, "name": name},
    )
    invoice = _issued_invoice(matter, now)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(bill_to_name="Someone else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(object_type="clients.client").update(after={})
    Matter.objects.filter(pk=matter.pk).update(status="CLOSED", closed_date=date(2026, 11, 2))
    matter.refresh_from_db()
    until, _ = retention.retention_until(matter)
    assert until is not None
    later = datetime.combine(until + timedelta(days=1), time(15), tzinfo=UTC)
    plan = retention.purge_plan(matter=matter, today=later.date())
    assert ("invoice", invoice.pk, "bill-to name, address, email; stored PDF") in plan.items
    quoting = AuditEvent.objects.filter(object_repr__contains=name).count()
    assert quoting

    record = retention.matter_purge(matter=matter, actor=users["ADMIN"], now=later)

    invoice = Invoice.objects.get(pk=invoice.pk)
    assert (invoice.bill_to_name, invoice.bill_to_address, invoice.bill_to_email) == (
        f"Purged client C-{client.pk}",
        "",
        "",
    )
    assert (invoice.number, invoice.total_cents, invoice.status) == ("2026-R0001", 50_000, "ISSUED")
    assert not InvoicePdf.objects.filter(invoice=invoice).exists()
    for event in AuditEvent.objects.all():
        text = f"{event.object_repr} {event.before} {event.after}"
        assert name not in text, event.action
        assert "hr@acme.example" not in text, event.action
    assert record.removed["billing.invoicepdf"] == 1
    assert record.removed["core.auditevent"] >= quoting
    redaction = AuditEvent.objects.get(action=audit.REDACTION_ACTION)
    assert name not in str(redaction.after)
    assert audit.verify_chain() is None
    out = StringIO()
    call_command("verify", stdout=out)
    assert '"verify": "ok"' in out.getvalue()

    # A redacted event changed again after its redaction no longer verifies.
    event_id = redaction.after["events"][0][0]
    AuditEvent.objects.filter(pk=event_id).update(object_repr="forged")
    broken = audit.verify_chain()
    assert broken is not None
    assert broken.event_id == event_id


@pytest.mark.django_db(transaction=True)
def test_purge_deletes_the_matters_documents_after_commit(
    users: dict[str, Any], now: Any, settings: Any, tmp_path: Any, login: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from caseledger.matters import documents
    from caseledger.matters.models import MatterDocument

    settings.MEDIA_ROOT = str(tmp_path / "media")
    matter = factories.matter(partner=users["PARTNER"])
    document = documents.document_upload(
        matter=matter,
        upload=SimpleUploadedFile(
            "Ana Lima passport.pdf", b"%PDF-1.7 passport scan", content_type="application/pdf"
        ),
        title="Passport of Ana Lima",
        kind="APPROVAL_NOTICE",
        actor=users["PARTNER"],
        now=now,
        share=True,
    )
    stored = tmp_path / "media" / document.file.name
    assert stored.exists()
    Matter.objects.filter(pk=matter.pk).update(status="CLOSED", closed_date=date(2026, 11, 2))
    matter.refresh_from_db()
    until, _ = retention.retention_until(matter)
    assert until is not None
    later = datetime.combine(until + timedelta(days=1), time(15), tzinfo=UTC)
    plan = retention.purge_plan(matter=matter, today=later.date())
    assert ("document", document.pk, "title, file name, stored file") in plan.items

    record = retention.matter_purge(matter=matter, actor=users["ADMIN"], now=later)

    assert record.removed["document"] == 1
    purged = MatterDocument.objects.get(pk=document.pk)
    assert (purged.title, purged.filename, purged.file.name) == (
        "Purged document",
        f"document-{document.pk}",
        "",
    )
    assert purged.shared_at is None
    assert purged.sha256 == document.sha256  # what was kept stays provable
    assert not stored.exists()
    web = login(users["PARTNER"])
    response = web.get(reverse("matters:document_download", args=[document.pk]))
    assert response.status_code == 404  # the matter page's link answers, without the file
    uploaded = AuditEvent.objects.get(
        action="matters.document_uploaded", object_id=str(document.pk)
    )
    assert "Ana Lima" not in str(uploaded.after)
    assert "passport" not in uploaded.object_repr.lower()
    out = StringIO()
    call_command("verify", stdout=out)
    assert '"verify": "ok"' in out.getvalue()
