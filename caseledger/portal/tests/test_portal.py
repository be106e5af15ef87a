"""The client portal: a client user sees only their own client's records, pays several invoices
in one checkout, writes to the firm and reads the firm's answer, chooses Spanish; staff invite
client users from the client page."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from caseledger.clients.tests.factories import make_beneficiary, make_person
from caseledger.core.choices import Role
from caseledger.core.models import AuditEvent, OutboxMessage, User
from caseledger.matters.tests.factories import make_matter
from caseledger.payments import selectors as payment_selectors
from caseledger.payments.models import CheckoutInvoice, CheckoutSession, Payment
from caseledger.payments.tests.factories import issued_invoice
from caseledger.portal import services
from caseledger.portal.models import PortalMessage

pytestmark = pytest.mark.django_db


def _client_with_login(make_user: Any, *, language: str = "en", attorney: Any = None) -> Any:
    client = make_person(preferred_language=language)
    user = make_user(role=Role.CLIENT)
    client.portal_users.add(user)
    beneficiary = make_beneficiary(client=client, relationship="SPOUSE")
    matter = make_matter(
        client=client, beneficiary=beneficiary, case_type_code="i130", attorney=attorney
    )
    return client, user, matter


def test_a_client_lands_on_the_portal(client, login, make_user):
    _, user, _ = _client_with_login(make_user)
    login(user)
    assert client.get("/")["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200


def test_another_clients_objects_are_not_found(client, login, make_user, now):
    _, user, matter = _client_with_login(make_user)
    _, _, other_matter = _client_with_login(make_user)
    mine = issued_invoice(matter=matter, cents=10_000, now=now)
    theirs = issued_invoice(matter=other_matter, cents=20_000, now=now)
    login(user)
    assert client.get(reverse("portal:invoice_pdf", args=[mine.pk])).status_code == 200
    assert client.get(reverse("portal:invoice_pdf", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("portal:case_detail", args=[other_matter.pk])).status_code == 404
    posted = client.post(reverse("portal:message_post", args=[other_matter.pk]), {"body": "hi"})
    assert posted.status_code == 404
    paid = client.post(reverse("portal:invoices_pay"), {"invoice": [mine.pk, theirs.pk]})
    assert paid.status_code == 404
    assert not CheckoutSession.objects.exists()
    page = client.get(reverse("portal:invoices")).content.decode()
    assert mine.number in page
    assert theirs.number not in page


def test_two_invoices_paid_at_once_through_the_sandbox(client, login, make_user, now):
    _, user, matter = _client_with_login(make_user)
    first = issued_invoice(matter=matter, cents=30_000, now=now)
    second = issued_invoice(matter=matter, cents=45_000, now=now)
    login(user)
    start = client.post(reverse("portal:invoices_pay"), {"invoice": [first.pk, second.pk]})
    assert start.status_code == 302
    session = CheckoutSession.objects.get()
    assert session.amount_cents == 75_000
    assert CheckoutInvoice.objects.filter(session=session).count() == 2
    created = AuditEvent.objects.get(action="payments.checkout_created")
    assert created.actor_id == user.pk
    done = client.post(start["Location"], {"outcome": "success", "payer": "Ana"})
    assert done.status_code == 302
    assert payment_selectors.invoice_balance_due(first) == 0
    assert payment_selectors.invoice_balance_due(second) == 0
    payment = Payment.objects.get()
    assert payment.unapplied_cents == 0
    assert {a.invoice_id for a in payment.allocations.all()} == {first.pk, second.pk}
    back = client.get(
        client.get(done["Location"]).content.decode().split('href="')[-1].split('"')[0]
    )
    assert back.status_code == 200


def test_payment_posts_are_rate_limited(login, make_user, now):
    _, user, matter = _client_with_login(make_user)
    invoice = issued_invoice(matter=matter, cents=10_000, now=now)
    for _ in range(services.PAY_LIMIT):
        services.portal_invoices_checkout(user=user, invoices=[invoice], now=now, return_url="/")
    with pytest.raises(services.PortalError, match="too many payment attempts"):
        services.portal_invoices_checkout(user=user, invoices=[invoice], now=now, return_url="/")


def test_messages_both_ways_with_email_notices(client, login, make_user, users):
    attorney = users["ATTORNEY"]
    _, user, matter = _client_with_login(make_user, language="es", attorney=attorney)
    login(user)
    sent = client.post(
        reverse("portal:message_post", args=[matter.pk]), {"body": "¿Cuándo es mi cita?"}
    )
    assert sent.status_code == 302
    to_firm = OutboxMessage.objects.get(kind="portal.message")
    assert to_firm.to == [attorney.email]
    login(attorney)
    reply = client.post(reverse("portal:staff_reply", args=[matter.pk]), {"body": "El 5 de enero."})
    assert reply.status_code == 302
    to_client = OutboxMessage.objects.filter(kind="portal.message").order_by("-id").first()
    assert to_client is not None
    assert to_client.to == [user.email]
    assert "Nuevo mensaje sobre su caso" in to_client.subject
    staff_page = client.get(reverse("matters:detail", args=[matter.pk])).content.decode()
    assert "¿Cuándo es mi cita?" in staff_page
    login(user)
    page = client.get(reverse("portal:case_detail", args=[matter.pk])).content.decode()
    assert "El 5 de enero." in page
    assert "Mensajes con la firma" in page
    assert PortalMessage.objects.filter(from_client=True).count() == 1
    assert AuditEvent.objects.filter(action="portal.message_posted").count() == 2


def test_language_chosen_in_the_portal(client, login, make_user):
    owner, user, _ = _client_with_login(make_user)
    login(user)
    assert "My cases" in client.get(reverse("portal:home")).content.decode()
    client.post(reverse("portal:language"), {"language": "es", "next": "/portal/"})
    owner.refresh_from_db()
    assert owner.preferred_language == "es"
    page = client.get(reverse("portal:home"))
    assert page["Content-Language"] == "es"
    assert "Mis casos" in page.content.decode()
    assert '<html lang="es">' in page.content.decode()


def test_invite_a_person_client_in_their_language(client, login, users):
    person = make_person(preferred_language="es", email="Maria@Mail.Example")
    login(users["BILLING"])
    answer = client.post(reverse("portal:invite", args=[person.pk]))
    assert answer.status_code == 302
    invited = User.objects.get(username="maria@mail.example")
    assert invited.role == Role.CLIENT
    assert not invited.has_usable_password()
    assert list(person.portal_users.all()) == [invited]
    mail = OutboxMessage.objects.get(kind="core.invitation")
    assert mail.subject.startswith("Su portal de cliente en")
    assert "Cree su contraseña" in mail.body
    again = client.post(reverse("portal:invite", args=[person.pk]))
    assert again.status_code == 302
    assert person.portal_users.count() == 1


def test_company_contacts_each_get_their_own_login(users, now):
    from caseledger.clients import services as client_services
    from caseledger.clients.tests.factories import make_company

    company = make_company()
    a = client_services.contact_add(
        client=company, actor=None, now=now, name="Ann Lee", role="HR", email="ann@co.example"
    )
    b = client_services.contact_add(
        client=company, actor=None, now=now, name="Bo Park", role="BILLING", email="bo@co.example"
    )
    with pytest.raises(services.PortalError, match="choose the contact"):
        services.portal_user_invite(client=company, actor=users["ADMIN"], now=now)
    services.portal_user_invite(client=company, contact=a, actor=users["ADMIN"], now=now)
    services.portal_user_invite(client=company, contact=b, actor=users["ADMIN"], now=now)
    assert sorted(company.portal_users.values_list("username", flat=True)) == [
        "ann@co.example",
        "bo@co.example",
    ]


def test_trust_statement_for_a_period(client, login, make_user):
    _, user, _ = _client_with_login(make_user)
    login(user)
    answer = client.get(
        reverse("portal:trust_statement"), {"date_from": "2026-01-01", "date_to": "2026-12-31"}
    )
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="portal.trust_statement_downloaded").exists()
    bad = client.get(
        reverse("portal:trust_statement"), {"date_from": "2026-12-31", "date_to": "2026-01-01"}
    )
    assert bad.status_code == 200
    assert "must be on or after" in bad.content.decode()


def test_a_refund_waits_for_the_clients_authorization(client, login, make_user, users, now):
    from caseledger.credits.exceptions import CreditError
    from caseledger.credits.models import CreditNote
    from caseledger.credits.services import credit_note_approve
    from caseledger.portal.tests.authz import refund_note

    class Ctx:
        pass

    ctx = Ctx()
    ctx.users = users  # type: ignore[attr-defined]
    ctx.now = now  # type: ignore[attr-defined]
    note = refund_note(ctx)
    assert note.status == "PENDING_APPROVAL"
    with pytest.raises(CreditError, match="has not authorized it yet"):
        credit_note_approve(credit_note=note, approver=users["PARTNER"], now=now)

    login(users["CLIENT"])
    page = client.get(reverse("portal:credits")).content.decode()
    assert "I authorize this refund" in page
    done = client.post(
        reverse("portal:refund_authorize", args=[note.pk]), REMOTE_ADDR="203.0.113.7"
    )
    assert done.status_code == 302
    event = AuditEvent.objects.get(action="portal.refund_authorized")
    assert event.actor_id == users["CLIENT"].pk
    assert note.client_authorization.ip == "203.0.113.7"
    again = client.post(reverse("portal:refund_authorize", args=[note.pk]))
    assert again.status_code == 302
    assert AuditEvent.objects.filter(action="portal.refund_authorized").count() == 1

    login(users["BILLING"])
    staff = client.get(reverse("clients:detail", args=[note.client_id])).content.decode()
    assert "Refunds the client authorized" in staff
    assert "203.0.113.7" in staff
    credit_note_approve(credit_note=note, approver=users["PARTNER"], now=now)
    assert CreditNote.objects.get(pk=note.pk).status == "ISSUED"


def test_pages_cost_the_same_few_statements_for_one_case_or_four(client, login, make_user, now):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from caseledger.payments import services as payment_services
    from caseledger.payments.services import Allocation
    from caseledger.trust.services import deposit_record

    owner, user, matter = _client_with_login(make_user)
    login(user)

    def deposit(m: Any) -> None:
        deposit_record(
            client=owner,
            matter=m,
            method="WIRE",
            payer="Ana",
            reference="W",
            amount_cents=10_000,
            received_date=now.date(),
            actor=None,
            now=now,
        )
        invoice = issued_invoice(matter=m, cents=5_000, now=now)
        payment_services.payment_record(
            client=owner,
            method="CHECK",
            payer="Ana",
            reference="CHK",
            amount_cents=2_000,
            received_date=now.date(),
            allocations=[Allocation(invoice, 2_000)],
            actor=None,
            now=now,
        )

    deposit(matter)
    counts = []
    for _ in range(2):
        pages = {}
        for name in ("portal:home", "portal:trust", "portal:invoices"):
            with CaptureQueriesContext(connection) as one:
                assert client.get(reverse(name)).status_code == 200
            pages[name] = len(one.captured_queries)
        counts.append(pages)
        for _ in range(3):
            extra = make_matter(
                client=owner,
                beneficiary=make_beneficiary(client=owner, relationship="SPOUSE"),
                case_type_code="i130",
            )
            deposit(extra)
    assert counts[0] == counts[1]
    # Session, user, firm, the user's clients and beneficiaries, then the page's own reads: the
    # home page sums the invoices and the trust in one statement each, the invoices are read
    # with their money, the payments with what they paid, the trust figures in one statement.
    assert counts[0] == {"portal:home": 9, "portal:trust": 9, "portal:invoices": 9}


def test_an_invoice_paid_meanwhile_leaves_the_rest_as_credit(make_user, now):
    from caseledger.payments import services as payment_services
    from caseledger.payments.providers.sandbox import sandbox_event
    from caseledger.payments.services import Allocation

    owner, user, matter = _client_with_login(make_user)
    first = issued_invoice(matter=matter, cents=30_000, now=now)
    second = issued_invoice(matter=matter, cents=45_000, now=now)
    session = services.portal_invoices_checkout(
        user=user, invoices=[first, second], now=now, return_url="/portal/invoices/"
    )
    # The first invoice is paid by check before the card payment arrives.
    payment_services.payment_record(
        client=owner,
        method="CHECK",
        payer="Ana",
        reference="CHK-9",
        amount_cents=30_000,
        received_date=now.date(),
        allocations=[Allocation(first, 30_000)],
        actor=None,
        now=now,
    )
    event = sandbox_event(session=session, outcome="success", payer="Ana")
    payment_services.checkout_event_process(event=event, provider="sandbox", now=now)
    card = Payment.objects.get(checkout=session)
    assert [(a.invoice_id, a.amount_cents) for a in card.allocations.all()] == [(second.pk, 45_000)]
    assert card.unapplied_cents == 30_000
    assert payment_selectors.invoice_balance_due(second) == 0


def test_case_type_and_stages_read_in_spanish_unless_the_firm_renamed_them(
    client, login, make_user
):
    """The default case type and stage names are in the portal's catalog; a name the firm wrote
    itself is shown as written."""
    _, user, matter = _client_with_login(make_user, language="es")
    login(user)
    page = client.get(reverse("portal:case_detail", args=[matter.pk])).content.decode()
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "I-130, petición familiar" in heading  # (the matter's title is the firm's own text)
    stage_names = list(matter.case_type.stages.values_list("name", flat=True))
    assert stage_names, "the I-130 case type has its stages"
    assert "Apertura del caso" in page or "Petición presentada" in page
    home = client.get(reverse("portal:home")).content.decode()
    assert "I-130, petición familiar" in home

    matter.case_type.name = "Petición familiar — paquete completo"
    matter.case_type.save(update_fields=["name"])
    page = client.get(reverse("portal:case_detail", args=[matter.pk])).content.decode()
    assert "Petición familiar — paquete completo" in page


def test_a_person_client_has_no_beneficiaries_page(client, login, make_user):
    """The Beneficiaries page is the company's (its employees' petitions); a person client's
    beneficiary is family and gets no page to be granted from."""
    _, user, _ = _client_with_login(make_user, language="es")
    login(user)
    assert client.get(reverse("portal:beneficiaries")).status_code == 404
    home = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:beneficiaries") not in home
