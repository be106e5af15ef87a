"""Demo portal logins: a Spanish-speaking person client (María Elena Torres, ``maria``) and a
company contact (Hannah Weiss, ``client``, HR at the first corporate client), both with cases,
invoices to pay, trust money and a message thread. Runs after the other apps' demos (before
banking's late part), through the real services; idempotent (keyed by the user and by what
already exists)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from caseledger.clients.models import Client, Contact
from caseledger.core import clock
from caseledger.core.choices import Role
from caseledger.core.demo import DEMO_PASSWORD
from caseledger.core.demo_context import DemoContext
from caseledger.core.models import User
from caseledger.matters.models import Matter

REVIEW_LINE = "Case document review (revisión de documentos del caso)"
PERSON_LOGIN = ("maria", "María Elena", "Torres", "María Elena Torres")
# What `manage.py demo_logins` prints for the client portal.
PORTAL_LOGINS = [
    ("maria", "María Elena Torres", "person client, Spanish"),
    ("client", "Hannah Weiss", "contact of a company client"),
    ("beneficiary", "the beneficiary of that company's petition", "their own case only"),
]
BENEFICIARY_LOGIN = "beneficiary"


def _person_user(ctx: DemoContext, client: Client) -> User:
    username, first, last, _ = PERSON_LOGIN
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "role": Role.CLIENT,
            "initials": "MT",
            "email": "maria.torres@mail.example",
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    client.portal_users.add(user)
    return user


def _beneficiary_user(ctx: DemoContext, matter: Matter) -> None:
    """The foreign national of the company's petition, with a login of their own that shows
    their case only (Beneficiary.portal_users, never the company's portal_users)."""
    beneficiary = matter.beneficiary
    if beneficiary is None or beneficiary.portal_users.exists():
        return
    first, _, last = beneficiary.name.partition(" ")
    user, created = User.objects.get_or_create(
        username=BENEFICIARY_LOGIN,
        defaults={
            "first_name": first[:150],
            "last_name": last[:150],
            "role": Role.CLIENT,
            "initials": (first[:1] + last[:1]).upper(),
            "email": beneficiary.email or "beneficiary@mail.example",
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    beneficiary.portal_users.add(user)


def _extra_invoice(ctx: DemoContext, matter: Matter) -> None:
    """A second open invoice (a consultation and document review), so the portal can pay two
    invoices at once."""
    from caseledger.billing import services as billing
    from caseledger.billing.models import InvoiceLine

    if InvoiceLine.objects.filter(invoice__matter=matter, description=REVIEW_LINE).exists():
        return
    at = ctx.now - timedelta(days=6)
    invoice = billing.invoice_draft_create(matter=matter, actor=ctx.users["billing"], now=at)
    billing.invoice_line_add(
        invoice=invoice,
        description=REVIEW_LINE,
        unit_price="350.00",
        actor=ctx.users["billing"],
        now=at,
    )
    billing.invoice_submit(invoice=invoice, actor=ctx.users["billing"], now=at)
    billing.invoice_approve(invoice=invoice, actor=ctx.users["partner"], now=at)
    # Issued today, after the other demos' history: numbers follow issue dates.
    billing.invoice_issue(invoice=invoice, actor=ctx.users["billing"], now=ctx.now)


def _trust(ctx: DemoContext, matter: Matter) -> None:
    """A retainer deposited (part of it by a check still clearing) and a top-up requested."""
    from caseledger.trust import services as trust
    from caseledger.trust.models import TrustDeposit, TrustRequest

    if TrustDeposit.objects.filter(matter=matter).exists():
        return
    billing = ctx.users["billing"]
    request = trust.trust_request_create(
        client=matter.client,
        matter=matter,
        kind="RETAINER",
        amount_cents=250_000,
        due_date=ctx.today - timedelta(days=10),
        actor=billing,
        now=ctx.now - timedelta(days=30),
        send=False,
    )
    trust.deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer=matter.client.name,
        reference="WIRE-5521",
        amount_cents=200_000,
        received_date=ctx.today - timedelta(days=20),
        actor=billing,
        now=ctx.now,
        trust_request=request,
    )
    trust.deposit_record(
        client=matter.client,
        matter=matter,
        method="CHECK",
        payer=matter.client.name,
        reference="CHK-1042",
        amount_cents=50_000,
        received_date=ctx.today,
        actor=billing,
        now=ctx.now,
        trust_request=request,
    )
    if not TrustRequest.objects.filter(matter=matter, kind="REPLENISHMENT").exists():
        trust.trust_request_create(
            client=matter.client,
            matter=matter,
            kind="REPLENISHMENT",
            amount_cents=100_000,
            due_date=ctx.today + timedelta(days=14),
            actor=billing,
            now=ctx.now,
            send=False,
        )


def _thread(ctx: DemoContext, matter: Matter, client_user: User, texts: list[str]) -> None:
    from caseledger.portal import services
    from caseledger.portal.models import PortalMessage

    if PortalMessage.objects.filter(matter=matter).exists():
        return
    firm_user = matter.attorney or ctx.users["attorney"]
    for i, text in enumerate(texts):
        author = client_user if i % 2 == 0 else firm_user
        services.portal_message_post(
            matter=matter,
            author=author,
            body=text,
            # In office hours, a day apart: the client in the morning, the firm after lunch.
            now=datetime.combine(
                ctx.today - timedelta(days=len(texts) - i),
                time(10 if i % 2 == 0 else 14, 5 + 7 * i),
                tzinfo=clock.firm_zone(),
            ),
        )


def _refund_to_authorize(ctx: DemoContext, client: Client) -> None:
    """A refund on a paid invoice, above the approval threshold: it waits for a partner and, as
    the client has a portal login, for the client's authorization in the portal."""
    from caseledger.billing.models import Invoice
    from caseledger.credits.models import CreditNote
    from caseledger.credits.services import credit_note_request
    from caseledger.payments.selectors import invoice_money

    if CreditNote.objects.filter(client=client, refund_cents__gt=0).exists():
        return
    issued = list(Invoice.objects.filter(client=client, status="ISSUED").order_by("id"))
    money = invoice_money(issued, as_of=ctx.today)
    # Paid in full: all of the credit becomes the client's to refund.
    paid = [
        inv
        for inv in issued
        if money[inv.pk].paid_cents >= 60_000 and money[inv.pk].balance_due_cents == 0
    ]
    if not paid:
        return
    credit_note_request(
        invoice=paid[0],
        reason_code="BILLING_ERROR",
        reason_text="Honorarios cobrados dos veces / fee billed twice",
        amount_cents=60_000,
        refund_cents=60_000,
        refund_method="CHECK",
        actor=ctx.users["billing"],
        now=ctx.now - timedelta(days=1),
    )


def _shared_notice(ctx: DemoContext, matter: Matter) -> None:
    """A receipt notice the firm kept on the matter and shared with the client (a one-page PDF
    drawn here, marked as a demo copy), so the case page lists a document to download."""
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen.canvas import Canvas

    from caseledger.matters.documents import document_upload
    from caseledger.matters.models import MatterDocument

    if MatterDocument.objects.filter(matter=matter).exists():
        return
    buffer = BytesIO()
    page = Canvas(buffer, pagesize=LETTER)
    page.setFont("Helvetica-Bold", 16)
    page.drawString(72, 700, "I-797C, Notice of Action: receipt notice")
    page.setFont("Helvetica", 11)
    page.drawString(72, 676, f"Case {matter.number}: {matter.title}"[:90])
    page.drawString(72, 658, "Demo copy made by CaseLedger's demo data; not a USCIS document.")
    page.showPage()
    page.save()
    document_upload(
        matter=matter,
        upload=SimpleUploadedFile("I-797C receipt notice.pdf", buffer.getvalue()),
        # Titles are the firm's words, written in the client's language.
        title=(
            "Aviso de recibo de USCIS (I-797C)"
            if matter.client.preferred_language == "es"
            else "USCIS receipt notice (I-797C)"
        ),
        kind="RECEIPT_NOTICE",
        actor=matter.paralegal or ctx.users["paralegal"],
        now=ctx.now - timedelta(days=2),
        share=True,
    )


def seed(ctx: DemoContext) -> None:
    """After every other app's seed (the portal is the last app with money in its demo) and before
    banking's late part, which draws the trust bank statements from the trust journal: María's
    deposits are on the statements and in the reconciliations like every other receipt."""
    person = Client.objects.filter(name=PERSON_LOGIN[3], kind="PERSON").first()
    if person is not None:
        user = _person_user(ctx, person)
        matters = list(person.matters.filter(status="OPEN").order_by("id"))
        _refund_to_authorize(ctx, person)
        if matters:
            _shared_notice(ctx, matters[0])
            _extra_invoice(ctx, matters[0])
            _trust(ctx, matters[0])
            _thread(
                ctx,
                matters[0],
                user,
                [
                    "Buenas tardes. ¿Ya llegó el aviso de recibo de USCIS de mi caso?",
                    "Hola, María Elena. Todavía no; en cuanto llegue lo verá en el portal "
                    "con su número de recibo.",
                    "Gracias. Mañana le mando las copias del acta de matrimonio.",
                ],
            )
    company_user = ctx.users.get("client")
    if company_user is None:
        return
    company = Client.objects.filter(portal_users=company_user).order_by("id").first()
    if company is None:
        return
    if not Contact.objects.filter(client=company, email=company_user.email).exists():
        from caseledger.clients import services as client_services

        client_services.contact_add(
            client=company,
            actor=ctx.users["admin"],
            now=ctx.now,
            name=company_user.get_full_name(),
            role="HR",
            email=company_user.email,
        )
    petition = (
        company.matters.filter(status="OPEN", beneficiary__isnull=False).order_by("id").first()
    )
    if petition is not None:
        _beneficiary_user(ctx, petition)
    matter = company.matters.filter(status="OPEN").order_by("id").first()
    if matter is not None:
        _shared_notice(ctx, matter)
        _thread(
            ctx,
            matter,
            company_user,
            [
                "Could you confirm the filing date for this petition?",
                "We plan to file next week; the receipt number will show here once USCIS "
                "issues it.",
            ],
        )
