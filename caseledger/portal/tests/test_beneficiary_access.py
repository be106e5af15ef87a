"""The company's grant: a beneficiary's login sees nothing of the employer's money "unless the
company grants it". The company's portal contact (Beneficiaries page) or firm staff (the matter
page's beneficiary panel) grant or revoke it; granted, the beneficiary sees the invoices (PDF,
pay online) and the trust balance of their own matters only, never another matter of the
employer; revoked, the account pages are 403 again. Each grant and revoke is an audit event."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from caseledger.clients import services as client_services
from caseledger.clients.exceptions import ClientError
from caseledger.clients.tests.factories import make_beneficiary, make_company, make_person
from caseledger.core.choices import Role
from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import AuditEvent
from caseledger.payments.models import CheckoutSession
from caseledger.payments.services import Allocation, payment_record
from caseledger.payments.tests.factories import issued_invoice
from caseledger.portal.tests.test_beneficiary import Employer, _sign_in_as_beneficiary

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer(make_user, users, now) -> Employer:
    return Employer(make_user, users, now)


def _deposit(employer: Employer, matter: Any, cents: int, now: Any) -> None:
    from caseledger.trust.services import deposit_record

    deposit_record(
        client=employer.company,
        matter=matter,
        method="WIRE",
        payer="Acme Robotics Inc.",
        reference=f"W-{matter.pk}",
        amount_cents=cents,
        received_date=now.date(),
        actor=None,
        now=now,
    )


def _grant(client: Any, login: Any, employer: Employer, granted: bool) -> Any:
    login(employer.contact)
    return client.post(
        reverse("portal:beneficiary_access", args=[employer.beneficiary.pk]),
        {"granted": "1" if granted else "0"},
    )


def test_the_company_contact_grants_and_revokes_from_its_beneficiaries_page(
    client, login, users, employer, now
):
    employer.invite(users["ADMIN"], now)
    login(employer.contact)
    home = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:beneficiaries") in home
    page = client.get(reverse("portal:beneficiaries")).content.decode()
    assert "Ravi Kumar" in page
    assert "Li Wei" in page
    assert employer.matter.number in page
    assert "Show invoices and trust to Ravi Kumar" in page
    answer = _grant(client, login, employer, True)
    assert answer.status_code == 302
    employer.beneficiary.refresh_from_db()
    assert employer.beneficiary.account_access_granted
    after = client.get(reverse("portal:beneficiaries")).content.decode()
    assert "Stop showing invoices and trust to Ravi Kumar" in after
    assert "Show invoices and trust to Li Wei" in after
    _grant(client, login, employer, True)  # granted twice: one event
    _grant(client, login, employer, False)
    employer.beneficiary.refresh_from_db()
    assert not employer.beneficiary.account_access_granted
    granted = AuditEvent.objects.get(action="clients.beneficiary_account_granted")
    revoked = AuditEvent.objects.get(action="clients.beneficiary_account_revoked")
    for event in (granted, revoked):
        assert event.actor_id == employer.contact.pk
        assert event.object_id == str(employer.beneficiary.pk)
        assert event.after["by"] == "client"
    assert revoked.after["account_access_granted"] is False


def test_the_company_page_in_spanish(client, login, employer):
    employer.company.preferred_language = "es"
    employer.company.save(update_fields=["preferred_language"])
    login(employer.contact)
    page = client.get(reverse("portal:beneficiaries")).content.decode()
    assert "Sus beneficiarios" in page
    assert "Mostrar facturas y fideicomiso a Ravi Kumar" in page
    answer = client.post(
        reverse("portal:beneficiary_access", args=[employer.beneficiary.pk]),
        {"granted": "1"},
        follow=True,
    )
    assert "Ravi Kumar ya puede ver las facturas" in answer.content.decode()


def test_granted_the_beneficiary_sees_their_own_matters_money_only(
    client, login, users, employer, now
):
    other_invoice = issued_invoice(matter=employer.other_matter, cents=120_000, now=now)
    _deposit(employer, employer.matter, 250_000, now)
    _deposit(employer, employer.other_matter, 990_000, now)
    user = _sign_in_as_beneficiary(client, login, users, employer, now)
    assert client.get(reverse("portal:invoices")).status_code == 403
    assert client.get(reverse("portal:invoice_pdf", args=[employer.invoice.pk])).status_code == 403
    client_services.beneficiary_account_access_set(
        beneficiary=employer.beneficiary, granted=True, actor=employer.contact, now=now
    )
    login(user)
    home = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:invoices") in home
    assert reverse("portal:trust") in home
    assert reverse("portal:credits") not in home
    invoices = client.get(reverse("portal:invoices"))
    assert invoices.status_code == 200
    text = invoices.content.decode()
    assert employer.invoice.number in text
    assert other_invoice.number not in text
    own_pdf = client.get(reverse("portal:invoice_pdf", args=[employer.invoice.pk]))
    assert own_pdf.status_code == 200
    assert own_pdf["Content-Type"] == "application/pdf"
    assert client.get(reverse("portal:invoice_pdf", args=[other_invoice.pk])).status_code == 404
    assert (
        client.post(reverse("portal:invoices_pay"), {"invoice": [other_invoice.pk]}).status_code
        == 404
    )
    assert not CheckoutSession.objects.exists()
    paid = client.post(reverse("portal:invoices_pay"), {"invoice": [employer.invoice.pk]})
    assert paid.status_code == 302
    session = CheckoutSession.objects.get()
    assert session.invoice_id == employer.invoice.pk
    assert session.amount_cents == 460_000
    trust = client.get(reverse("portal:trust"))
    assert trust.status_code == 200
    page = trust.content.decode()
    assert employer.matter.number in page
    assert "$2,500.00" in page
    assert employer.other_matter.number not in page
    assert "$9,900.00" not in page
    assert reverse("portal:trust_statement") not in page
    # The company's statement, deposit requests, credits and beneficiaries stay the company's.
    statement = client.get(
        reverse("portal:trust_statement"), {"date_from": "2026-01-01", "date_to": "2026-12-31"}
    )
    assert statement.status_code == 403
    assert (
        client.post(
            reverse("portal:trust_request_pay", args=[employer.trust_request.pk])
        ).status_code
        == 403
    )
    assert client.get(reverse("portal:credits")).status_code == 403
    assert client.get(reverse("portal:beneficiaries")).status_code == 403
    # Revoked: the account pages are refused again.
    client_services.beneficiary_account_access_set(
        beneficiary=employer.beneficiary, granted=False, actor=users["ATTORNEY"], now=now
    )
    assert client.get(reverse("portal:invoices")).status_code == 403
    assert client.get(reverse("portal:invoice_pdf", args=[employer.invoice.pk])).status_code == 403
    assert client.get(reverse("portal:trust")).status_code == 403


def test_a_client_login_also_granted_as_a_beneficiary_sums_both_on_the_home_page(
    client, login, users, employer, now
):
    """The home page's figures are summed in the database; they are the invoices' and trust
    pages' own: the person's own case, and the company's case granted to them (not the other
    employee's), the person's positions first."""
    from caseledger.core import clock
    from caseledger.matters.tests.factories import make_matter
    from caseledger.portal import selectors
    from caseledger.trust.services import deposit_record

    issued_invoice(matter=employer.other_matter, cents=120_000, now=now)
    _deposit(employer, employer.matter, 250_000, now)
    _deposit(employer, employer.other_matter, 990_000, now)
    user = _sign_in_as_beneficiary(client, login, users, employer, now)
    client_services.beneficiary_account_access_set(
        beneficiary=employer.beneficiary, granted=True, actor=employer.contact, now=now
    )
    person = make_person(name="Ravi Kumar")
    person.portal_users.add(user)
    own = make_matter(
        client=person,
        beneficiary=make_beneficiary(client=person, relationship="SPOUSE"),
        case_type_code="i130",
    )
    own_invoice = issued_invoice(matter=own, cents=30_000, now=now)
    deposit_record(
        client=person,
        matter=own,
        method="WIRE",
        payer="Ravi Kumar",
        reference="W-own",
        amount_cents=70_000,
        received_date=now.date(),
        actor=None,
        now=now,
    )
    login(user)
    home = client.get(reverse("portal:home")).content.decode()
    assert "$4,900.00" in home
    assert "Balance due on 2 invoices" in home
    assert "$3,200.00" in home
    today = clock.firm_today()
    rows = selectors.invoice_rows(user, today)
    assert {r.invoice.pk for r in rows} == {employer.invoice.pk, own_invoice.pk}
    payable = [r.money.balance_due_cents for r in rows if r.payable]
    assert selectors.balance_due(user) == (sum(payable), len(payable)) == (490_000, 2)
    positions = selectors.trust_positions(user, today)
    assert [p.matter.pk for p in positions] == [own.pk, employer.matter.pk]
    assert selectors.trust_held(user) == sum(p.balance_cents for p in positions) == 320_000


def test_granted_the_payment_history_shows_their_matters_payments_only(
    client, login, users, employer, now
):
    other_invoice = issued_invoice(matter=employer.other_matter, cents=120_000, now=now)
    own = payment_record(
        client=employer.company,
        method="CHECK",
        payer="Acme",
        reference="CHK-1",
        amount_cents=100_000,
        received_date=now.date(),
        allocations=[Allocation(employer.invoice, 100_000)],
        actor=None,
        now=now,
    )
    shared = payment_record(
        client=employer.company,
        method="CHECK",
        payer="Acme",
        reference="CHK-2",
        amount_cents=150_000,
        received_date=now.date(),
        allocations=[Allocation(employer.invoice, 50_000), Allocation(other_invoice, 100_000)],
        actor=None,
        now=now,
    )
    user = _sign_in_as_beneficiary(client, login, users, employer, now)
    client_services.beneficiary_account_access_set(
        beneficiary=employer.beneficiary, granted=True, actor=users["ADMIN"], now=now
    )
    login(user)
    page = client.get(reverse("portal:invoices")).content.decode()
    assert own.number in page
    assert shared.number not in page
    assert other_invoice.number not in page


def test_staff_grant_and_revoke_on_the_matter_page(client, login, users, employer, now):
    employer.invite(users["ADMIN"], now)
    login(users["ATTORNEY"])
    detail = reverse("matters:detail", args=[employer.matter.pk])
    assert "Grant Ravi Kumar their invoices and trust" in client.get(detail).content.decode()
    url = reverse("portal:staff_beneficiary_access", args=[employer.matter.pk])
    assert client.post(url, {"granted": "1"}).status_code == 302
    employer.beneficiary.refresh_from_db()
    assert employer.beneficiary.account_access_granted
    page = client.get(detail).content.decode()
    assert "Revoke Ravi Kumar their invoices and trust" in page
    assert "granted by the company" in page
    client.post(url, {"granted": "0"})
    employer.beneficiary.refresh_from_db()
    assert not employer.beneficiary.account_access_granted
    actions = list(
        AuditEvent.objects.filter(action__startswith="clients.beneficiary_account_")
        .order_by("id")
        .values_list("action", "actor_id", "after__by")
    )
    assert actions == [
        ("clients.beneficiary_account_granted", users["ATTORNEY"].pk, "firm"),
        ("clients.beneficiary_account_revoked", users["ATTORNEY"].pk, "firm"),
    ]
    login(users["PARALEGAL"])  # may read the matter, may not invite or grant
    assert client.post(url, {"granted": "1"}).status_code == 403


def test_who_may_not_grant(client, login, users, employer, make_user, now):
    beneficiary_login = _sign_in_as_beneficiary(client, login, users, employer, now)
    answer = client.post(
        reverse("portal:beneficiary_access", args=[employer.beneficiary.pk]), {"granted": "1"}
    )
    assert answer.status_code == 403
    with pytest.raises(NotPermitted, match="only a portal contact of Acme Robotics Inc."):
        client_services.beneficiary_account_access_set(
            beneficiary=employer.beneficiary, granted=True, actor=beneficiary_login, now=now
        )
    rival = make_company(name="Globex Corp.")
    rival_contact = make_user(role=Role.CLIENT)
    rival.portal_users.add(rival_contact)
    login(rival_contact)
    answer = client.post(
        reverse("portal:beneficiary_access", args=[employer.beneficiary.pk]), {"granted": "1"}
    )
    assert answer.status_code == 404
    assert "Ravi Kumar" not in client.get(reverse("portal:beneficiaries")).content.decode()
    with pytest.raises(NotPermitted, match="grants or revokes Ravi Kumar's access"):
        client_services.beneficiary_account_access_set(
            beneficiary=employer.beneficiary, granted=True, actor=rival_contact, now=now
        )
    person = make_person(name="Ana Ruiz")
    spouse = make_beneficiary(client=person, relationship="SPOUSE", name="Luis Ruiz")
    with pytest.raises(ClientError, match="Ana Ruiz, a person client"):
        client_services.beneficiary_account_access_set(
            beneficiary=spouse, granted=True, actor=users["ADMIN"], now=now
        )
    employer.beneficiary.refresh_from_db()
    assert not employer.beneficiary.account_access_granted
    assert not AuditEvent.objects.filter(action__startswith="clients.beneficiary_account").exists()
