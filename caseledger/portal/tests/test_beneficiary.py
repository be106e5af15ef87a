"""The beneficiary's own portal login: in a company's (employer-paid) matter the foreign national
is invited from the matter page and sees only their own case — its stage, dates and what the
firm needs from them — never the employer's invoices, payments, trust, credits, messages or
other matters. The employer's contact still sees all of it."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from caseledger.clients.tests.factories import make_beneficiary, make_company, make_person
from caseledger.core.choices import Role
from caseledger.core.models import AuditEvent, OutboxMessage, User
from caseledger.matters.tests.factories import make_matter
from caseledger.payments.models import CheckoutSession
from caseledger.payments.tests.factories import issued_invoice
from caseledger.portal import services
from caseledger.trust.tests.authz import _request

pytestmark = pytest.mark.django_db


class Employer:
    """A company client with a contact's login, two beneficiaries each with a petition, an
    issued invoice and a trust request on the first beneficiary's own petition."""

    def __init__(self, make_user: Any, users: dict[str, Any], now: Any) -> None:
        self.company = make_company(name="Acme Robotics Inc.")
        self.contact = make_user(role=Role.CLIENT)
        self.company.portal_users.add(self.contact)
        self.beneficiary = make_beneficiary(
            client=self.company, relationship="EMPLOYEE", name="Ravi Kumar", email="ravi@mail.ex"
        )
        self.other = make_beneficiary(client=self.company, relationship="EMPLOYEE", name="Li Wei")
        self.matter = make_matter(
            client=self.company, beneficiary=self.beneficiary, attorney=users["ATTORNEY"]
        )
        self.other_matter = make_matter(client=self.company, beneficiary=self.other)
        self.invoice = issued_invoice(matter=self.matter, cents=460_000, now=now)

        class Ctx:
            pass

        ctx = Ctx()
        ctx.now = now  # type: ignore[attr-defined]
        self.trust_request = _request(ctx, self.matter)

    def invite(self, actor: Any, now: Any, language: str = "en") -> User:
        return services.portal_beneficiary_invite(
            matter=self.matter, actor=actor, now=now, email="Ravi@Mail.ex", language=language
        )


@pytest.fixture
def employer(make_user, users, now) -> Employer:
    return Employer(make_user, users, now)


def test_staff_invite_the_beneficiary_from_the_matter_page(client, login, users, employer):
    login(users["ATTORNEY"])
    page = client.get(reverse("matters:detail", args=[employer.matter.pk])).content.decode()
    assert "Beneficiary&#x27;s portal login" in page or "Beneficiary's portal login" in page
    assert "Invite Ravi Kumar" in page
    answer = client.post(
        reverse("portal:invite_beneficiary", args=[employer.matter.pk]),
        {"email": "ravi@mail.ex", "language": "es"},
    )
    assert answer.status_code == 302
    user = User.objects.get(username="ravi@mail.ex")
    assert user.role == Role.CLIENT
    assert not user.has_usable_password()
    assert list(employer.beneficiary.portal_users.all()) == [user]
    assert not employer.company.portal_users.filter(pk=user.pk).exists()
    employer.beneficiary.refresh_from_db()
    assert employer.beneficiary.preferred_language == "es"
    event = AuditEvent.objects.get(action="portal.beneficiary_invited")
    assert event.actor_id == users["ATTORNEY"].pk
    assert event.object_id == str(employer.matter.pk)
    assert event.after["user"] == "ravi@mail.ex"
    mail = OutboxMessage.objects.get(kind="core.invitation", to=["ravi@mail.ex"])
    assert mail.subject.startswith("Su portal de cliente en")
    after = client.get(reverse("matters:detail", args=[employer.matter.pk])).content.decode()
    assert "Invite Ravi Kumar" not in after
    assert "ravi@mail.ex" in after


def test_the_invitation_is_refused_where_it_does_not_fit(users, employer, now):
    admin = users["ADMIN"]
    person = make_person(email="ana@mail.ex")
    own = make_matter(
        client=person,
        beneficiary=make_beneficiary(client=person, relationship="SPOUSE"),
        case_type_code="i130",
    )
    with pytest.raises(services.PortalError, match="is not paid by a company"):
        services.portal_beneficiary_invite(
            matter=own, actor=admin, now=now, email="x@mail.ex", language="en"
        )
    with pytest.raises(services.PortalError, match="language: must be one of en, es"):
        employer.invite(admin, now, language="fr")
    with pytest.raises(services.PortalError, match="email: Ravi Kumar has no email address"):
        services.portal_beneficiary_invite(
            matter=employer.matter, actor=admin, now=now, email="  ", language="en"
        )
    with pytest.raises(services.PortalError, match="already signs in to CaseLedger"):
        services.portal_beneficiary_invite(
            matter=employer.matter,
            actor=admin,
            now=now,
            email=employer.contact.email,
            language="en",
        )
    employer.invite(admin, now)
    with pytest.raises(services.PortalError, match="Ravi Kumar already has a portal login"):
        services.portal_beneficiary_invite(
            matter=employer.matter, actor=admin, now=now, email="new@mail.ex", language="en"
        )
    assert AuditEvent.objects.filter(action="portal.beneficiary_invited").count() == 1


def test_a_refused_invitation_from_the_page_says_why(client, login, users, employer, now):
    employer.invite(users["ADMIN"], now)
    login(users["BILLING"])
    answer = client.post(
        reverse("portal:invite_beneficiary", args=[employer.matter.pk]),
        {"email": "again@mail.ex", "language": "en"},
        follow=True,
    )
    assert "Not invited: beneficiary: Ravi Kumar already has a portal login" in (
        answer.content.decode()
    )
    assert not User.objects.filter(username="again@mail.ex").exists()


def _sign_in_as_beneficiary(client: Any, login: Any, users: Any, employer: Employer, now: Any):
    user = employer.invite(users["ADMIN"], now)
    user.set_password("correct horse battery staple")
    user.save()
    login(user)
    return user


def test_the_beneficiary_sees_their_own_case_only(client, login, users, employer, now):
    _sign_in_as_beneficiary(client, login, users, employer, now)
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    text = home.content.decode()
    assert employer.matter.number in text
    assert employer.other_matter.number not in text
    assert "Balance due" not in text
    assert "trust account" not in text.lower()
    assert reverse("portal:invoices") not in text
    case = client.get(reverse("portal:case_detail", args=[employer.matter.pk]))
    assert case.status_code == 200
    page = case.content.decode()
    assert "Where your case stands" in page
    assert "Messages with the firm" not in page
    assert employer.invoice.number not in page


@pytest.mark.parametrize(
    ("name", "method", "status"),
    [
        ("portal:invoices", "get", 403),
        ("portal:invoice_pdf", "get", 403),
        ("portal:invoices_pay", "post", 403),
        ("portal:trust", "get", 403),
        ("portal:trust_statement", "get", 403),
        ("portal:trust_request_pay", "post", 403),
        ("portal:credits", "get", 403),
        ("portal:case_detail:other", "get", 404),
        ("portal:message_post", "post", 403),
    ],
)
def test_the_beneficiary_is_refused_the_employers_account(
    client, login, users, employer, now, name, method, status
):
    _sign_in_as_beneficiary(client, login, users, employer, now)
    args: dict[str, Any] = {
        "portal:invoice_pdf": [employer.invoice.pk],
        "portal:trust_request_pay": [employer.trust_request.pk],
        "portal:case_detail:other": [employer.other_matter.pk],
        "portal:message_post": [employer.matter.pk],
    }
    url = reverse(name.removesuffix(":other"), args=args.get(name, []))
    data = {
        "portal:invoices_pay": {"invoice": [employer.invoice.pk]},
        "portal:message_post": {"body": "Hello"},
    }.get(name, {})
    if name == "portal:trust_statement":
        data = {"date_from": "2026-01-01", "date_to": "2026-12-31"}
    answer = getattr(client, method)(url, data)
    assert answer.status_code == status
    assert not CheckoutSession.objects.exists()
    assert (
        not AuditEvent.objects.filter(action__startswith="portal.")
        .exclude(action="portal.beneficiary_invited")
        .exists()
    )


def test_the_employers_contact_still_sees_everything(client, login, users, employer, now):
    employer.invite(users["ADMIN"], now)
    login(employer.contact)
    invoices = client.get(reverse("portal:invoices"))
    assert invoices.status_code == 200
    assert employer.invoice.number in invoices.content.decode()
    assert client.get(reverse("portal:invoice_pdf", args=[employer.invoice.pk])).status_code == 200
    assert client.get(reverse("portal:trust")).status_code == 200
    assert client.get(reverse("portal:credits")).status_code == 200
    for matter in (employer.matter, employer.other_matter):
        page = client.get(reverse("portal:case_detail", args=[matter.pk]))
        assert page.status_code == 200
        assert "Messages with the firm" in page.content.decode()
    home = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:invoices") in home


def test_the_beneficiary_chooses_their_own_language(client, login, users, employer, now):
    _sign_in_as_beneficiary(client, login, users, employer, now)
    client.post(reverse("portal:language"), {"language": "es", "next": "/portal/"})
    employer.beneficiary.refresh_from_db()
    employer.company.refresh_from_db()
    assert employer.beneficiary.preferred_language == "es"
    assert employer.company.preferred_language == "en"
    page = client.get(reverse("portal:home"))
    assert page["Content-Language"] == "es"
    assert "Mis casos" in page.content.decode()


def test_a_beneficiary_of_a_person_clients_matter_sees_nothing_of_it(client, login, make_user):
    """The link is for company-paid matters: a beneficiary row of a person's family petition
    with a login (made by hand) opens none of that client's matters."""
    person = make_person()
    beneficiary = make_beneficiary(client=person, relationship="SPOUSE")
    matter = make_matter(client=person, beneficiary=beneficiary, case_type_code="i130")
    user = make_user(role=Role.CLIENT)
    beneficiary.portal_users.add(user)
    login(user)
    assert client.get(reverse("portal:case_detail", args=[matter.pk])).status_code == 404
    assert matter.number not in client.get(reverse("portal:home")).content.decode()
