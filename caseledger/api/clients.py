"""Clients API: list, read, create, update. Sensitive identifiers are write-only here: responses
carry them masked (revealing is a page action with an audit event)."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from caseledger.clients import selectors, services
from caseledger.clients.models import Client
from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.core.permissions import require

router = Router(tags=["clients"])

DUPLICATE_WARNING = (
    "name: looks like existing client(s) {ids} (same name and date of birth, or same email); "
    "send confirm_duplicate=true to create anyway"
)


class ClientOut(Schema):
    id: int
    name: str
    kind: str
    client_type: str
    email: str
    phone: str
    responsible_partner_id: int | None
    payment_terms_days: int
    auto_apply_trust: bool
    ledes_required: bool
    preferred_language: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    country: str
    a_number_masked: str
    uscis_online_account_number: str
    passport_masked: str
    passport_country: str
    ssn_masked: str
    has_date_of_birth: bool
    billing_email: str
    created_at: datetime

    @staticmethod
    def resolve_has_date_of_birth(obj: Client) -> bool:
        return obj.date_of_birth is not None

    @staticmethod
    def resolve_billing_email(obj: Client) -> str:
        return selectors.client_billing_email(obj)


class ClientIn(Schema):
    name: str
    kind: str
    client_type: str
    email: str = ""
    phone: str = ""
    responsible_partner_id: int | None = None
    payment_terms_days: int = 30
    auto_apply_trust: bool = False
    ledes_required: bool = False
    preferred_language: str = "en"
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = "US"
    a_number: str = ""
    uscis_online_account_number: str = ""
    passport_number: str = ""
    passport_country: str = ""
    date_of_birth: date | None = None
    ssn_itin: str = ""
    country_of_citizenship: str = ""
    confirm_duplicate: bool = False


class ClientPatch(Schema):
    name: str | None = None
    client_type: str | None = None
    email: str | None = None
    phone: str | None = None
    responsible_partner_id: int | None = None
    payment_terms_days: int | None = None
    auto_apply_trust: bool | None = None
    ledes_required: bool | None = None
    preferred_language: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    a_number: str | None = None
    uscis_online_account_number: str | None = None
    passport_number: str | None = None
    passport_country: str | None = None
    date_of_birth: date | None = None
    ssn_itin: str | None = None


def _partner(pk: int | None) -> object:
    from caseledger.core.models import User

    if pk is None:
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise ApplicationError(
            f"responsible_partner_id: no user {pk}", field="responsible_partner_id"
        )
    return user


@router.get("/clients", response=list[ClientOut], operation_id="clients_list")
def clients_list(
    request: HttpRequest, q: str = "", limit: int = 100, offset: int = 0
) -> list[Client]:
    require(request.user, "clients.view")
    limit = max(1, min(limit, 500))
    qs = selectors.client_list(user=request.user, search=q).prefetch_related("contacts")
    return list(qs[offset : offset + limit])


@router.get("/clients/{client_id}", response=ClientOut, operation_id="clients_read")
def clients_read(request: HttpRequest, client_id: int) -> Client:
    require(request.user, "clients.view")
    client = get_object_or_404(Client, pk=client_id)
    require(request.user, "clients.view", client)
    return client


@router.post("/clients", response={201: ClientOut}, operation_id="clients_create")
def clients_create(request: HttpRequest, payload: ClientIn) -> Status[Client]:
    require(request.user, "clients.manage")
    data = payload.dict()
    confirm = data.pop("confirm_duplicate")
    data["responsible_partner"] = _partner(data.pop("responsible_partner_id"))
    if not confirm:
        duplicates = selectors.client_possible_duplicates(
            name=data["name"],
            email=data["email"],
            date_of_birth=data["date_of_birth"],
            a_number=data.get("a_number") or "",
        )
        if duplicates:
            raise HttpError(
                409, DUPLICATE_WARNING.format(ids=", ".join(str(d.pk) for d in duplicates))
            )
    client = services.client_create(actor=request.user, now=clock.now(), **data)  # type: ignore[arg-type]
    return Status(201, client)


@router.patch("/clients/{client_id}", response=ClientOut, operation_id="clients_update")
def clients_update(request: HttpRequest, client_id: int, payload: ClientPatch) -> Client:
    require(request.user, "clients.manage")
    client = get_object_or_404(Client, pk=client_id)
    require(request.user, "clients.manage", client)
    data = payload.dict(exclude_unset=True)
    if "responsible_partner_id" in data:
        data["responsible_partner"] = _partner(data.pop("responsible_partner_id"))
    return services.client_update(client=client, actor=request.user, now=clock.now(), **data)  # type: ignore[arg-type]
