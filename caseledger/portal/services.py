"""Portal writes: inviting client users, the message thread, the client's language, and the
online payments a client starts (several invoices at once, or a trust request). Each runs in
one transaction and records an audit event with the client user as actor; mail leaves through
the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.clients import services as client_services
from caseledger.clients.choices import ClientKind
from caseledger.clients.models import Beneficiary, Client, Contact
from caseledger.core import audit, clock, outbox
from caseledger.core.choices import Role
from caseledger.core.exceptions import ApplicationError
from caseledger.core.links import absolute_reverse, absolute_url
from caseledger.core.models import User
from caseledger.core.selectors import firm_get
from caseledger.core.services import user_invite
from caseledger.matters.models import Matter
from caseledger.payments import selectors as payment_selectors
from caseledger.payments import services as payment_services
from caseledger.payments.choices import CheckoutPurpose
from caseledger.payments.models import CheckoutSession
from caseledger.portal.models import PortalMessage, RefundAuthorization

PORTAL_LANGUAGES = ("en", "es")

INVITE_NO_EMAIL = "email: {name} has no email address to send the invitation to"
INVITE_CONTACT_OTHER_CLIENT = "contact: {contact} is not a contact of {client}"
INVITE_PERSON_CONTACT = "contact: a person client is invited themselves, not through a contact"
INVITE_COMPANY_NEEDS_CONTACT = "contact: choose the contact of {client} to invite"
INVITE_ALREADY = "email: {email} already has a portal login for {client}"
INVITE_BENEFICIARY_NOT_CORPORATE = (
    "matter: {matter} is not paid by a company; its client is invited from the client page"
)
INVITE_NO_BENEFICIARY = "matter: {matter} has no beneficiary to invite"
INVITE_BENEFICIARY_ALREADY = "beneficiary: {name} already has a portal login"
INVITE_EMAIL_TAKEN = "email: {email} already signs in to CaseLedger; use another address"
MESSAGE_EMPTY = "body: write a message"
MESSAGE_TOO_LONG = "body: at most 4000 characters (got {n})"
LANGUAGE_UNKNOWN = "language: must be one of en, es (got {value!r})"
PAY_NONE = "invoices: choose at least one invoice to pay"
PAY_NOT_PAYABLE = "invoices: {invoice} has nothing to pay"
PAY_TWO_CLIENTS = "invoices: pay the invoices of one client at a time"
PAY_TOO_MANY = "invoices: too many payment attempts; try again in {minutes} minutes"
TOPUP_NOT_PAYABLE = "request: {request} has nothing to pay"

# Payment POSTs: at most this many checkouts per client in the window (a stolen session or a
# stuck button cannot open hundreds of processor sessions).
PAY_LIMIT = 10
PAY_WINDOW = timedelta(minutes=10)


class PortalError(ApplicationError):
    code = "portal_refused"


def client_language(client: Client | Beneficiary) -> str:
    """The language the portal, its emails and notices use for ``client`` (or a beneficiary with
    a login of their own): Spanish for one whose preferred language is Spanish, English
    otherwise."""
    return client.preferred_language if client.preferred_language in PORTAL_LANGUAGES else "en"


def portal_user_language(user: object) -> str:
    """The language of a portal user's pages: their client's, or (a beneficiary's login) their
    own as the beneficiary."""
    from caseledger.portal.selectors import beneficiaries_of, portal_clients

    clients = portal_clients(user)
    person: Client | Beneficiary | None = clients[0] if clients else beneficiaries_of(user).first()
    return client_language(person) if person is not None else "en"


def portal_user_invite(
    *, client: Client, actor: User, now: datetime, contact: Contact | None = None
) -> User:
    """Give a person client, or one contact of a company client, their own portal login: a
    client user (username = email) linked to ``client``, emailed a set-password link in the
    client's language. Raises PortalError (nothing written) without an email, for a contact of
    another client, or when that email already has a login for this client."""
    if client.kind == ClientKind.PERSON and contact is not None:
        raise PortalError(INVITE_PERSON_CONTACT, field="contact")
    if client.kind == ClientKind.COMPANY and contact is None:
        raise PortalError(INVITE_COMPANY_NEEDS_CONTACT.format(client=client.name), field="contact")
    if contact is not None and contact.client_id != client.pk:
        raise PortalError(
            INVITE_CONTACT_OTHER_CLIENT.format(contact=contact.name, client=client.name),
            field="contact",
        )
    name = contact.name if contact is not None else client.name
    email = (contact.email if contact is not None else client.email).strip().lower()
    if not email:
        raise PortalError(INVITE_NO_EMAIL.format(name=name), field="email")
    if client.portal_users.filter(username__iexact=email).exists():
        raise PortalError(INVITE_ALREADY.format(email=email, client=client.name), field="email")
    first, _, last = name.partition(" ")
    language = client_language(client)
    with transaction.atomic(), translation.override(language):
        user = user_invite(
            actor=actor,
            now=now,
            username=email,
            email=email,
            first_name=first[:150],
            last_name=last[:150],
            role=Role.CLIENT,
            site_url=absolute_url(""),
            template="portal/email/invite.txt",
            subject=translation.gettext("Your client portal at %(firm)s")
            % {"firm": firm_get().name},
        )
        client.portal_users.add(user)
        audit.record(
            actor=actor,
            action="portal.user_invited",
            at=now,
            obj=client,
            after={"user": user.username, "contact": contact.name if contact else ""},
        )
    return user


def portal_beneficiary_invite(
    *, matter: Matter, actor: User, now: datetime, email: str, language: str
) -> User:
    """Give the beneficiary of a company client's matter their own portal login: a client user
    linked to the beneficiary (never to the company), who sees that beneficiary's cases only —
    status, dates and what the firm needs from them, no invoices, trust or amounts. Emailed a
    set-password link in ``language``, which becomes the beneficiary's language. Raises
    PortalError (nothing written) for a matter of a person client, a matter without a
    beneficiary, a beneficiary who already has a login, or an email already in use."""
    beneficiary = matter.beneficiary
    if matter.client.kind != ClientKind.COMPANY:
        raise PortalError(
            INVITE_BENEFICIARY_NOT_CORPORATE.format(matter=matter.number), field="matter"
        )
    if beneficiary is None:
        raise PortalError(INVITE_NO_BENEFICIARY.format(matter=matter.number), field="matter")
    if language not in PORTAL_LANGUAGES:
        raise PortalError(LANGUAGE_UNKNOWN.format(value=language), field="language")
    address = email.strip().lower()
    if not address:
        raise PortalError(INVITE_NO_EMAIL.format(name=beneficiary.name), field="email")
    if beneficiary.portal_users.exists():
        raise PortalError(
            INVITE_BENEFICIARY_ALREADY.format(name=beneficiary.name), field="beneficiary"
        )
    if User.objects.filter(Q(username__iexact=address) | Q(email__iexact=address)).exists():
        raise PortalError(INVITE_EMAIL_TAKEN.format(email=address), field="email")
    first, _, last = beneficiary.name.partition(" ")
    with transaction.atomic(), translation.override(language):
        user = user_invite(
            actor=actor,
            now=now,
            username=address,
            email=address,
            first_name=first[:150],
            last_name=last[:150],
            role=Role.CLIENT,
            site_url=absolute_url(""),
            template="portal/email/invite.txt",
            subject=translation.gettext("Your client portal at %(firm)s")
            % {"firm": firm_get().name},
        )
        beneficiary.portal_users.add(user)
        if beneficiary.preferred_language != language:
            client_services.beneficiary_update(
                beneficiary=beneficiary, actor=actor, now=now, preferred_language=language
            )
        audit.record(
            actor=actor,
            action="portal.beneficiary_invited",
            at=now,
            obj=matter,
            after={"user": user.username, "beneficiary": beneficiary.pk, "language": language},
        )
    return user


def _firm_recipients(matter: Matter) -> list[str]:
    people = [matter.attorney, matter.responsible_partner, matter.paralegal]
    return sorted({p.email for p in people if p is not None and p.email})


def portal_message_post(*, matter: Matter, author: User, body: str, now: datetime) -> PortalMessage:
    """Add a message to the matter's thread. From a client user it notifies the matter's
    attorney, responsible partner and paralegal; from the firm it notifies every portal user of
    the client, in the client's language. One email per message (outbox key)."""
    text = body.strip()
    if not text:
        raise PortalError(MESSAGE_EMPTY, field="body")
    if len(text) > 4000:
        raise PortalError(MESSAGE_TOO_LONG.format(n=len(text)), field="body")
    from_client = author.role == Role.CLIENT
    with transaction.atomic():
        message = PortalMessage.objects.create(
            matter=matter, author=author, from_client=from_client, body=text, created_at=now
        )
        audit.record(
            actor=author,
            action="portal.message_posted",
            at=now,
            obj=message,
            after={"matter": matter.number, "from_client": from_client, "length": len(text)},
        )
        firm = firm_get()
        if from_client:
            recipients = _firm_recipients(matter)
            subject = f"Client message on {matter.number} from {author.get_full_name()}"
            link = absolute_reverse("matters:detail", matter.pk)
            language = "en"
        else:
            recipients = sorted(
                {u.email for u in matter.client.portal_users.filter(is_active=True) if u.email}
            )
            language = client_language(matter.client)
            with translation.override(language):
                subject = translation.gettext("New message about your case %(number)s") % {
                    "number": matter.number
                }
            link = absolute_reverse("portal:case_detail", matter.pk)
        with translation.override(language):
            mail_body = render_to_string(
                "portal/email/message.txt",
                {"message": message, "matter": matter, "link": link, "firm": firm},
            )
        outbox.enqueue(
            key=f"portal.message:{message.pk}",
            kind="portal.message",
            to=recipients,
            subject=subject,
            body=mail_body,
            related=message,
            now=now,
        )
    return message


def portal_language_set(*, user: User, client: Client, language: str, now: datetime) -> Client:
    """The client chooses the language of the portal and of what the firm sends them."""
    if language not in PORTAL_LANGUAGES:
        raise PortalError(LANGUAGE_UNKNOWN.format(value=language), field="language")
    with transaction.atomic():
        return client_services.client_update(
            client=client, actor=user, now=now, preferred_language=language
        )


def portal_beneficiary_language_set(
    *, user: User, beneficiary: Beneficiary, language: str, now: datetime
) -> Beneficiary:
    """A beneficiary with a login chooses the language of their portal pages and emails."""
    if language not in PORTAL_LANGUAGES:
        raise PortalError(LANGUAGE_UNKNOWN.format(value=language), field="language")
    with transaction.atomic():
        return client_services.beneficiary_update(
            beneficiary=beneficiary, actor=user, now=now, preferred_language=language
        )


def portal_languages_set(*, user: User, language: str, now: datetime) -> None:
    """The language chosen by a portal user, for every client they act for and every
    beneficiary they sign in as, in one transaction."""
    from caseledger.portal import selectors

    with transaction.atomic():
        for client in selectors.clients_of(user):
            portal_language_set(user=user, client=client, language=language, now=now)
        for beneficiary in selectors.beneficiaries_of(user):
            portal_beneficiary_language_set(
                user=user, beneficiary=beneficiary, language=language, now=now
            )


def _rate_check(client: Client, now: datetime) -> None:
    recent = CheckoutSession.objects.filter(client=client, created_at__gte=now - PAY_WINDOW).count()
    if recent >= PAY_LIMIT:
        minutes = int(PAY_WINDOW.total_seconds() // 60)
        raise PortalError(PAY_TOO_MANY.format(minutes=minutes), field="invoices")


def portal_invoices_checkout(
    *, user: User, invoices: Sequence[Invoice], now: datetime, return_url: str
) -> CheckoutSession:
    """Open one checkout with the configured provider for the balance due of each chosen
    invoice (all of one client, each issued with something due). The payment, when the provider
    confirms it, is allocated to each invoice up to its balance."""
    if not invoices:
        raise PortalError(PAY_NONE, field="invoices")
    clients = {inv.client_id for inv in invoices}
    if len(clients) > 1:
        raise PortalError(PAY_TWO_CLIENTS, field="invoices")
    ordered = sorted(invoices, key=lambda inv: (inv.issue_date or now.date(), inv.pk))
    money = payment_selectors.invoice_money(ordered, as_of=clock.firm_date(now))
    amounts: list[tuple[Invoice, int]] = []
    for inv in ordered:
        due = money[inv.pk].balance_due_cents
        if inv.status != InvoiceStatus.ISSUED or due <= 0:
            raise PortalError(PAY_NOT_PAYABLE.format(invoice=inv), field="invoices")
        amounts.append((inv, due))
    client = ordered[0].client
    _rate_check(client, now)
    numbers = ", ".join(str(inv) for inv, _ in amounts)
    return payment_services.checkout_create(
        purpose=CheckoutPurpose.INVOICE,
        client=client,
        matter=ordered[0].matter,
        invoice=amounts[0][0],
        invoice_amounts=amounts if len(amounts) > 1 else (),
        amount_cents=sum(cents for _, cents in amounts),
        now=now,
        description=f"Invoices {numbers} — {firm_get().name}"[:250],
        customer_email=user.email,
        return_url=return_url,
        actor=user,
    )


def portal_trust_request_checkout(
    *, user: User, trust_request: object, now: datetime, return_url: str
) -> CheckoutSession:
    """Pay a trust request (a retainer or top-up) online: the money goes into trust in full
    when it arrives; the processor's fee is the firm's, never taken from trust."""
    from caseledger.trust.choices import TrustRequestStatus
    from caseledger.trust.models import TrustRequest

    assert isinstance(trust_request, TrustRequest)
    due = trust_request.outstanding_cents
    open_states = {TrustRequestStatus.OPEN, TrustRequestStatus.PARTIALLY_PAID}
    if trust_request.status not in open_states or due <= 0:
        raise PortalError(TOPUP_NOT_PAYABLE.format(request=trust_request.number), field="request")
    _rate_check(trust_request.client, now)
    return payment_services.checkout_create(
        purpose=CheckoutPurpose.TRUST_REQUEST,
        client=trust_request.client,
        matter=trust_request.matter,
        trust_request_id=trust_request.pk,
        amount_cents=due,
        now=now,
        description=f"Trust deposit {trust_request.number} — {firm_get().name}",
        customer_email=user.email,
        return_url=return_url,
        actor=user,
    )


AUTHORIZE_NOT_NEEDED = "credit_note: {document} does not wait for your authorization"


def portal_refund_authorize(
    *, user: User, credit_note: object, now: datetime, ip: str | None
) -> RefundAuthorization:
    """The client authorizes a credit note's refund (the firm may then approve it): recorded
    once, with the time and the IP address, and audited. Raises PortalError when the credit
    note does not wait for it (already authorized, decided, or no refund)."""
    from caseledger.credits.locks import lock_credit_note
    from caseledger.credits.models import CreditNote
    from caseledger.portal.policy import needs_client_authorization

    assert isinstance(credit_note, CreditNote)
    with transaction.atomic():
        note = lock_credit_note(credit_note)
        done = RefundAuthorization.objects.filter(credit_note_id=note.pk).exists()
        if done or not needs_client_authorization(note):
            raise PortalError(
                AUTHORIZE_NOT_NEEDED.format(document=note.number or f"#{note.pk}"),
                field="credit_note",
            )
        authorization = RefundAuthorization.objects.create(
            credit_note=note, authorized_by=user, authorized_at=now, ip=ip
        )
        audit.record(
            actor=user,
            action="portal.refund_authorized",
            at=now,
            obj=note,
            after={"refund_cents": note.refund_cents, "ip": ip or ""},
            ip=ip,
        )
    return authorization


def portal_download_recorded(*, user: User, obj: object, what: str, now: datetime) -> None:
    """A client downloaded a document (invoice PDF, trust statement): an audit event."""
    from django.db import models

    with transaction.atomic():
        audit.record(
            actor=user,
            action=f"portal.{what}_downloaded",
            at=now,
            obj=obj if isinstance(obj, models.Model) else None,
        )
