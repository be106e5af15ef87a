"""Reads for clients: the authorization scope as a queryset, lists, duplicates, billing email."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from caseledger.clients.choices import ContactRole
from caseledger.clients.models import PII_FIELDS, Beneficiary, Client, identity_hash
from caseledger.core.choices import Role
from caseledger.core.crypto import lookup_hash
from caseledger.core.permissions import UNSCOPED_ROLES

M = TypeVar("M", bound=Model)


def without_pii(qs: QuerySet[M], *paths: str) -> QuerySet[M]:
    """``qs`` with the encrypted identity fields of the clients or beneficiaries it joins at
    ``paths`` (``"client"``, ``"beneficiary"``; none: its own rows') left unread: a list that
    shows names neither decrypts nor holds them. Reading one later reads it from the database."""
    return qs.defer(
        *(tuple(f"{path}__{name}" for path in paths for name in PII_FIELDS) or PII_FIELDS)
    )


def _team_q(user: Any, prefix: str = "") -> Q:
    return (
        Q(**{f"{prefix}attorney": user})
        | Q(**{f"{prefix}paralegal": user})
        | Q(**{f"{prefix}responsible_partner": user})
    )


def clients_visible_to(user: Any) -> QuerySet[Client]:
    """Clients ``user`` may open: everyone for unscoped roles; attorneys and paralegals see clients
    they created or that have a matter on their team (all, when the firm opens matters to all);
    portal users their own client."""
    from caseledger.core.selectors import firm_get

    qs = Client.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.role in UNSCOPED_ROLES:
        return qs
    if user.role == Role.CLIENT:
        return qs.filter(portal_users=user)
    if user.role in {Role.ATTORNEY, Role.PARALEGAL}:
        if firm_get().matters_open_to_all:
            return qs
        team_clients = Client.objects.filter(
            Q(matters__attorney=user)
            | Q(matters__paralegal=user)
            | Q(matters__responsible_partner=user)
        ).values("pk")
        return qs.filter(Q(created_by=user) | Q(responsible_partner=user) | Q(pk__in=team_clients))
    return qs.none()


def client_scope(user: Any, client: Client) -> bool:
    """OBJECT_SCOPES entry for clients.client."""
    return clients_visible_to(user).filter(pk=client.pk).exists()


def beneficiary_scope(user: Any, beneficiary: Beneficiary) -> bool:
    return client_scope(user, beneficiary.client)


def client_list(
    *, user: Any, search: str = "", client_type: str = "", kind: str = ""
) -> QuerySet[Client]:
    qs = clients_visible_to(user).select_related("responsible_partner")
    if search:
        term = search.strip()
        a_hash = _a_number_hash(term)
        q = Q(name__icontains=term) | Q(email__icontains=term)
        q |= Q(beneficiaries__name__icontains=term)
        if a_hash:
            q |= Q(a_number_hash=a_hash) | Q(beneficiaries__a_number_hash=a_hash)
        qs = qs.filter(q).distinct()
    if client_type:
        qs = qs.filter(client_type=client_type)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("name", "id")


def _a_number_hash(term: str) -> str:
    from caseledger.clients.exceptions import ClientError
    from caseledger.clients.validators import normalize_a_number

    try:
        return lookup_hash(normalize_a_number(term))
    except ClientError:
        return ""


def a_number_hash_for_search(term: str) -> str:
    """The lookup hash when ``term`` is a valid A-number, else ''."""
    return _a_number_hash(term)


def client_possible_duplicates(
    *,
    name: str,
    email: str = "",
    date_of_birth: date | None = None,
    a_number: str = "",
    exclude_id: int | None = None,
) -> list[Client]:
    """Existing clients that look like the one being entered: same name and date of birth, the
    same email, or the same A-number (however it is written: A12345678, A012345678 and
    A-012-345-678 are one person) on the client or on one of its beneficiaries. Searched across
    all clients (a duplicate the user cannot see is still one)."""
    q = Q()
    digest = identity_hash(name, date_of_birth)
    if digest:
        q |= Q(identity_hash=digest)
    if email and email.strip():
        q |= Q(email__iexact=email.strip())
    a_hash = _a_number_hash(a_number) if a_number else ""
    if a_hash:
        q |= Q(a_number_hash=a_hash) | Q(beneficiaries__a_number_hash=a_hash)
    if not q:
        return []
    qs = Client.objects.filter(q).distinct()
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.order_by("id")[:5])


def client_billing_email(client: Client) -> str:
    """Where invoices go: the first billing contact's email, else the client's own email."""
    # .all() so a list that prefetched contacts asks no further query.
    billing = sorted(
        (c for c in client.contacts.all() if c.role == ContactRole.BILLING and c.email),
        key=lambda c: c.pk,
    )
    if billing:
        return billing[0].email
    return client.email


def client_pick(queryset: QuerySet[Client], *, query: str) -> QuerySet[Client]:
    """Clients of ``queryset`` matching ``query`` (name or email, any part, any case), for the
    client picker; by name."""
    query = (query or "").strip()
    if query:
        queryset = queryset.filter(Q(name__icontains=query) | Q(email__icontains=query))
    return queryset.order_by("name", "id")
