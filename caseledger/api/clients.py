"""Clients API: list, read, create, update. Sensitive identifiers are write-only here: responses
carry them masked (revealing is a page action with an audit event)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from caseledger.api.pagination import Page, paginate
from caseledger.api.types import (
    DEFAULT_LIMIT,
    Day,
    Flag,
    Id,
    Limit,
    Offset,
    Text,
    choice,
    column,
)
from caseledger.clients import selectors, services
from caseledger.clients.choices import ClientKind, ClientType, Language
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


Name = column(Client, "name", min_length=1)
Phone = column(Client, "phone")
Email = column(Client, "email")
Line = column(Client, "address_line1")
City = column(Client, "city")
Region = column(Client, "region")
PostalCode = column(Client, "postal_code")
# Countries are normalized to ISO 3166 alpha-2 by the service (names and lower case too).
Country = Text(60)
Identifier = Text(40)  # A-number, passport number, SSN/ITIN before normalization
Terms = Annotated[int, Field(ge=0, le=365)]
KindIn = choice(ClientKind)
TypeIn = choice(ClientType)
LanguageIn = choice(Language)


class ClientIn(Schema):
    name: Name  # type: ignore[valid-type]
    kind: KindIn  # type: ignore[valid-type]
    client_type: TypeIn  # type: ignore[valid-type]
    email: Email = ""  # type: ignore[valid-type]
    phone: Phone = ""  # type: ignore[valid-type]
    responsible_partner_id: Id | None = None
    payment_terms_days: Terms = 30
    auto_apply_trust: Flag = False
    ledes_required: Flag = False
    preferred_language: LanguageIn = "en"  # type: ignore[valid-type]
    address_line1: Line = ""  # type: ignore[valid-type]
    address_line2: Line = ""  # type: ignore[valid-type]
    city: City = ""  # type: ignore[valid-type]
    region: Region = ""  # type: ignore[valid-type]
    postal_code: PostalCode = ""  # type: ignore[valid-type]
    country: Country = "US"  # type: ignore[valid-type]
    a_number: Identifier = ""  # type: ignore[valid-type]
    uscis_online_account_number: Identifier = ""  # type: ignore[valid-type]
    passport_number: Identifier = ""  # type: ignore[valid-type]
    passport_country: Country = ""  # type: ignore[valid-type]
    date_of_birth: Day | None = None
    ssn_itin: Identifier = ""  # type: ignore[valid-type]
    country_of_citizenship: Country = ""  # type: ignore[valid-type]
    confirm_duplicate: Flag = False


# A PATCH changes only the fields it sends. A field may be left out but not sent as null
# unless its column takes null (responsible partner, date of birth): the defaults below are
# never validated, so an explicit null is a 422 naming the field.
class ClientPatch(Schema):
    name: Name = Field(default=None)  # type: ignore[valid-type]
    client_type: TypeIn = Field(default=None)  # type: ignore[valid-type]
    email: Email = Field(default=None)  # type: ignore[valid-type]
    phone: Phone = Field(default=None)  # type: ignore[valid-type]
    responsible_partner_id: Id | None = None
    payment_terms_days: Terms = Field(default=None)  # type: ignore[assignment]
    auto_apply_trust: Flag = Field(default=None)  # type: ignore[assignment]
    ledes_required: Flag = Field(default=None)  # type: ignore[assignment]
    preferred_language: LanguageIn = Field(default=None)  # type: ignore[valid-type]
    address_line1: Line = Field(default=None)  # type: ignore[valid-type]
    address_line2: Line = Field(default=None)  # type: ignore[valid-type]
    city: City = Field(default=None)  # type: ignore[valid-type]
    region: Region = Field(default=None)  # type: ignore[valid-type]
    postal_code: PostalCode = Field(default=None)  # type: ignore[valid-type]
    country: Country = Field(default=None)  # type: ignore[valid-type]
    a_number: Identifier = Field(default=None)  # type: ignore[valid-type]
    uscis_online_account_number: Identifier = Field(default=None)  # type: ignore[valid-type]
    passport_number: Identifier = Field(default=None)  # type: ignore[valid-type]
    passport_country: Country = Field(default=None)  # type: ignore[valid-type]
    date_of_birth: Day | None = None
    ssn_itin: Identifier = Field(default=None)  # type: ignore[valid-type]


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


@router.get("/clients", response=Page[ClientOut], operation_id="clients_list")
def clients_list(
    request: HttpRequest,
    q: Text(200) = "",  # type: ignore[valid-type]
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict:
    """Clients the user may see, searched by ``q``; ``count`` and ``next`` page through."""
    require(request.user, "clients.view")
    qs = selectors.client_list(user=request.user, search=q).prefetch_related("contacts")
    return paginate(request, qs, limit=limit, offset=offset, serialize=list)


@router.get("/clients/{client_id}", response=ClientOut, operation_id="clients_read")
def clients_read(request: HttpRequest, client_id: Id) -> Client:
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
def clients_update(request: HttpRequest, client_id: Id, payload: ClientPatch) -> Client:
    require(request.user, "clients.manage")
    client = get_object_or_404(Client, pk=client_id)
    require(request.user, "clients.manage", client)
    data = payload.dict(exclude_unset=True)
    if "responsible_partner_id" in data:
        data["responsible_partner"] = _partner(data.pop("responsible_partner_id"))
    return services.client_update(client=client, actor=request.user, now=clock.now(), **data)  # type: ignore[arg-type]
