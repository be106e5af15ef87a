"""Writes for clients, contacts and beneficiaries. Personal identifiers are validated and
normalized here, stored encrypted (core.crypto) and never written to the audit log in plaintext:
the audit says which sensitive field changed, not its value."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction

from caseledger.clients import hooks, locks, validators
from caseledger.clients.choices import (
    AcwiaExemption,
    ClientKind,
    ClientType,
    ContactRole,
    EmployeeBand,
    IntakeSource,
    Language,
    Relationship,
)
from caseledger.clients.exceptions import ClientError
from caseledger.clients.models import PII_FIELDS, Beneficiary, Client, Contact, PersonalData
from caseledger.core import audit, bulk, clock
from caseledger.core.choices import Role
from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import User
from caseledger.core.permissions import require

NAME_REQUIRED = "name: required"
KIND_INVALID = "kind: must be PERSON or COMPANY (got {value!r})"
CLIENT_TYPE_INVALID = "client_type: must be PRIVATE or CORPORATE (got {value!r})"
COMPANY_NO_PII = (
    "{field}: only a person has personal identifiers; record them on the beneficiary, not on "
    "company {name}"
)
PAYMENT_TERMS_INVALID = "payment_terms_days: must be between 0 and 365 days (got {value})"
LANGUAGE_INVALID = "preferred_language: must be one of {allowed} (got {value!r})"
PARTNER_ROLE = "responsible_partner: {user} is not a partner"
CONTACT_ROLE_INVALID = "role: must be one of {allowed} (got {value!r})"
RELATIONSHIP_INVALID = "relationship: must be one of {allowed} (got {value!r})"
DATE_OF_BIRTH_FUTURE = "date_of_birth: cannot be in the future (got {value})"
# Birth dates go back further than the books' 1990-2100 (clock.date_check), but not to year 1.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
DATE_OF_BIRTH_TOO_EARLY = "date_of_birth: cannot be before {earliest} (got {value})"
INTAKE_SOURCE_INVALID = "intake_source: must be one of {allowed} or empty (got {value!r})"
REVEAL_NOTHING = "fields: nothing to reveal"
ACCESS_NOT_COMPANY = (
    "beneficiary: {name} is a beneficiary of {client}, a person client; only a company client "
    "grants a beneficiary its invoices and trust"
)
ACCESS_NOT_CONTACT = (
    "beneficiary: only a portal contact of {client} or the firm grants or revokes {name}'s "
    "access to its invoices and trust"
)

EMPLOYEE_BAND_INVALID = "employee_band: must be one of {allowed} or empty (got {value!r})"
ACWIA_EXEMPTION_INVALID = "acwia_exemption: must be one of {allowed} or empty (got {value!r})"
CLIENT_PLAIN_FIELDS = (
    "name",
    "kind",
    "client_type",
    "intake_source",
    "email",
    "phone",
    "responsible_partner",
    "payment_terms_days",
    "auto_apply_trust",
    "ledes_required",
    "preferred_language",
    "employee_band",
    "nonprofit",
    "acwia_exemption",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "notes",
    "passport_country",
    "country_of_citizenship",
    "uscis_online_account_number",
)
BENEFICIARY_PLAIN_FIELDS = (
    "name",
    "relationship",
    "email",
    "passport_country",
    "country_of_citizenship",
    "uscis_online_account_number",
    "preferred_language",
)


def _clean_pii(data: dict[str, Any], *, today: date) -> dict[str, Any]:
    """Validate and normalize the personal-data keys present in ``data``."""
    out: dict[str, Any] = {}
    if "a_number" in data:
        out["a_number"] = validators.normalize_a_number(data["a_number"] or "")
    if "ssn_itin" in data:
        out["ssn_itin"] = validators.normalize_ssn(data["ssn_itin"] or "")
    if "uscis_online_account_number" in data:
        out["uscis_online_account_number"] = validators.normalize_online_account(
            data["uscis_online_account_number"] or ""
        )
    if "passport_number" in data or "passport_country" in data:
        number, country = validators.normalize_passport(
            data.get("passport_number") or "", data.get("passport_country") or ""
        )
        out["passport_number"] = number
        out["passport_country"] = country
    if "country_of_citizenship" in data:
        out["country_of_citizenship"] = validators.normalize_country(
            data["country_of_citizenship"] or "", "country_of_citizenship"
        )
    if "date_of_birth" in data:
        dob = data["date_of_birth"]
        if dob and dob > today:
            raise ClientError(DATE_OF_BIRTH_FUTURE.format(value=dob), field="date_of_birth")
        if dob and dob < EARLIEST_BIRTH_DATE:
            raise ClientError(
                DATE_OF_BIRTH_TOO_EARLY.format(earliest=EARLIEST_BIRTH_DATE, value=dob),
                field="date_of_birth",
            )
        out["date_of_birth"] = dob or None
    return out


def _apply(obj: PersonalData, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set ``values`` on ``obj``; return the audit (before, after) with PII values redacted."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in values.items():
        old = getattr(obj, key)
        if key == "responsible_partner":
            old_cmp, new_cmp = (
                getattr(obj, "responsible_partner_id", None),
                (value.pk if value else None),
            )
        else:
            old_cmp, new_cmp = old, value
        if old_cmp == new_cmp:
            continue
        setattr(obj, key, value)
        if key in PII_FIELDS:
            before[key] = "(set)" if old else "(empty)"
            after[key] = "(changed)" if value else "(removed)"
        else:
            before[key] = old_cmp
            after[key] = new_cmp
    obj.refresh_lookup_hashes()
    return before, after


def _clean_client(data: dict[str, Any], *, kind: str, today: date) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in CLIENT_PLAIN_FIELDS:
        if key in data:
            value = data[key]
            values[key] = value.strip() if isinstance(value, str) else value
    if "name" in values and not values["name"]:
        raise ClientError(NAME_REQUIRED, field="name")
    if kind not in ClientKind.values:
        raise ClientError(KIND_INVALID.format(value=kind), field="kind")
    if "client_type" in values and values["client_type"] not in ClientType.values:
        raise ClientError(
            CLIENT_TYPE_INVALID.format(value=values["client_type"]), field="client_type"
        )
    if "intake_source" in values:
        values["intake_source"] = values["intake_source"] or ""
        if values["intake_source"] and values["intake_source"] not in IntakeSource.values:
            raise ClientError(
                INTAKE_SOURCE_INVALID.format(
                    allowed=", ".join(IntakeSource.values), value=values["intake_source"]
                ),
                field="intake_source",
            )
    if "email" in values:
        values["email"] = (values["email"] or "").lower()
    if "payment_terms_days" in values:
        terms = values["payment_terms_days"]
        if terms is None or not 0 <= int(terms) <= 365:
            raise ClientError(PAYMENT_TERMS_INVALID.format(value=terms), field="payment_terms_days")
    if "preferred_language" in values and values["preferred_language"] not in Language.values:
        raise ClientError(
            LANGUAGE_INVALID.format(
                allowed=", ".join(Language.values), value=values["preferred_language"]
            ),
            field="preferred_language",
        )
    if "employee_band" in values and (values["employee_band"] or "") not in EmployeeBand.values:
        raise ClientError(
            EMPLOYEE_BAND_INVALID.format(
                allowed=", ".join(v for v in EmployeeBand.values if v),
                value=values["employee_band"],
            ),
            field="employee_band",
        )
    if "acwia_exemption" in values and (values["acwia_exemption"] or "") not in (
        AcwiaExemption.values
    ):
        raise ClientError(
            ACWIA_EXEMPTION_INVALID.format(
                allowed=", ".join(v for v in AcwiaExemption.values if v),
                value=values["acwia_exemption"],
            ),
            field="acwia_exemption",
        )
    partner = values.get("responsible_partner")
    if partner is not None and partner.role != Role.PARTNER:
        raise ClientError(PARTNER_ROLE.format(user=partner), field="responsible_partner")
    if "country" in values:
        values["country"] = validators.normalize_country(values["country"] or "", "country")
    pii = _clean_pii(data, today=today)
    if kind == ClientKind.COMPANY:
        for key in (
            *PII_FIELDS,
            "passport_country",
            "country_of_citizenship",
            "uscis_online_account_number",
        ):
            if pii.get(key):
                raise ClientError(
                    COMPANY_NO_PII.format(field=key, name=values.get("name") or ""), field=key
                )
    values.update(pii)
    return values


@transaction.atomic
def client_create(
    *, actor: User | None, now: datetime, name: str, kind: str, client_type: str, **data: Any
) -> Client:
    """Create a client. Raises ClientError naming the field for any invalid input. Does not
    refuse look-alikes: the caller shows ``clients.selectors.client_possible_duplicates`` first."""
    client, after = client_build(
        actor=actor, now=now, name=name, kind=kind, client_type=client_type, **data
    )
    client.save()
    audit.record(actor=actor, action="clients.client_created", at=now, obj=client, after=after)
    return client


def client_build(
    *,
    actor: User | None,
    now: datetime,
    name: str,
    kind: str,
    client_type: str,
    today: date | None = None,
    **data: Any,
) -> tuple[Client, dict[str, Any]]:
    """A new client checked by the rules of ``client_create``, not saved: the client and its
    audit ``after``. Raises ClientError naming the field. For ``client_create_many``, whose
    caller passes ``today`` (the firm's date at ``now``, read once for a whole batch)."""
    data.update(name=name, kind=kind, client_type=client_type)
    values = _clean_client(data, kind=kind, today=today or clock.firm_date(now))
    client = Client(created_at=now, created_by=actor)
    _, after = _apply(client, values)
    return client, after


@transaction.atomic
def client_create_many(
    *, actor: User | None, now: datetime, built: list[tuple[Client, dict[str, Any]]]
) -> list[Client]:
    """Insert clients made by ``client_build`` with one bulk INSERT, and their
    ``clients.client_created`` events (one each, as ``client_create`` writes) with one more."""
    clients = bulk.insert_objects([client for client, _ in built])
    audit.record_many(
        actor=actor,
        at=now,
        events=[
            audit.Pending("clients.client_created", obj=client, after=after)
            for client, (_, after) in zip(clients, built, strict=True)
        ],
    )
    return clients


@transaction.atomic
def client_update(*, client: Client, actor: User | None, now: datetime, **data: Any) -> Client:
    """Change the given fields (absent keys stay as they are)."""
    client = locks.client_lock(client_id=client.pk)
    kind = data.get("kind", client.kind)
    values = _clean_client(data, kind=kind, today=clock.firm_date(now))
    if kind == ClientKind.COMPANY and client.has_pii:
        for key in PII_FIELDS:
            if getattr(client, key) and key not in values:
                raise ClientError(COMPANY_NO_PII.format(field=key, name=client.name), field=key)
    before, after = _apply(client, values)
    if after:
        regroup = not hooks.REGROUP_FIELDS.isdisjoint(after)
        if regroup:
            hooks.client_regrouped(client_id=client.pk, moved=False)
        client.updated_at = now
        client.save()
        if regroup:
            hooks.client_regrouped(client_id=client.pk, moved=True)
        audit.record(
            actor=actor,
            action="clients.client_updated",
            at=now,
            obj=client,
            before=before,
            after=after,
        )
    return client


@transaction.atomic
def contact_add(
    *,
    client: Client,
    actor: User | None,
    now: datetime,
    name: str,
    role: str = ContactRole.PRIMARY,
    email: str = "",
    phone: str = "",
) -> Contact:
    if not (name or "").strip():
        raise ClientError(NAME_REQUIRED, field="name")
    if role not in ContactRole.values:
        raise ClientError(
            CONTACT_ROLE_INVALID.format(allowed=", ".join(ContactRole.values), value=role),
            field="role",
        )
    contact = Contact.objects.create(
        client=client,
        name=name.strip(),
        role=role,
        email=(email or "").strip().lower(),
        phone=(phone or "").strip(),
        created_at=now,
    )
    audit.record(
        actor=actor,
        action="clients.contact_added",
        at=now,
        obj=client,
        after={"contact": contact.name, "role": role, "email": contact.email},
    )
    return contact


@transaction.atomic
def contact_remove(*, contact: Contact, actor: User | None, now: datetime) -> None:
    client = contact.client
    audit.record(
        actor=actor,
        action="clients.contact_removed",
        at=now,
        obj=client,
        before={"contact": contact.name, "role": contact.role, "email": contact.email},
    )
    contact.delete()


def _clean_beneficiary(data: dict[str, Any], *, today: date) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in BENEFICIARY_PLAIN_FIELDS:
        if key in data:
            value = data[key]
            values[key] = value.strip() if isinstance(value, str) else value
    if "name" in values and not values["name"]:
        raise ClientError(NAME_REQUIRED, field="name")
    if "relationship" in values and values["relationship"] not in Relationship.values:
        raise ClientError(
            RELATIONSHIP_INVALID.format(
                allowed=", ".join(Relationship.values), value=values["relationship"]
            ),
            field="relationship",
        )
    if "email" in values:
        values["email"] = (values["email"] or "").lower()
    if "preferred_language" in values and values["preferred_language"] not in Language.values:
        raise ClientError(
            LANGUAGE_INVALID.format(
                allowed=", ".join(Language.values), value=values["preferred_language"]
            ),
            field="preferred_language",
        )
    values.update(_clean_pii(data, today=today))
    return values


@transaction.atomic
def beneficiary_create(
    *, client: Client, actor: User | None, now: datetime, name: str, relationship: str, **data: Any
) -> Beneficiary:
    """A beneficiary of petitions filed by ``client`` (the petitioner)."""
    data.update(name=name, relationship=relationship)
    values = _clean_beneficiary(data, today=clock.firm_date(now))
    beneficiary = Beneficiary(client=client, created_at=now)
    _, after = _apply(beneficiary, values)
    beneficiary.save()
    audit.record(
        actor=actor,
        action="clients.beneficiary_created",
        at=now,
        obj=beneficiary,
        after={**after, "client": client.pk},
    )
    return beneficiary


@transaction.atomic
def beneficiary_update(
    *, beneficiary: Beneficiary, actor: User | None, now: datetime, **data: Any
) -> Beneficiary:
    beneficiary = locks.beneficiary_lock(beneficiary_id=beneficiary.pk)
    values = _clean_beneficiary(data, today=clock.firm_date(now))
    before, after = _apply(beneficiary, values)
    if after:
        beneficiary.updated_at = now
        beneficiary.save()
        audit.record(
            actor=actor,
            action="clients.beneficiary_updated",
            at=now,
            obj=beneficiary,
            before=before,
            after=after,
        )
    return beneficiary


def beneficiary_account_access_set(
    *, beneficiary: Beneficiary, granted: bool, actor: User, now: datetime
) -> Beneficiary:
    """The company grants (or revokes) its beneficiary's portal login a view of the invoices
    (PDF, pay online) and the trust balance of the beneficiary's own matters; the employer's
    other matters stay out of it. Decided by a portal contact of the company (a client user in
    its ``portal_users``) or by firm staff (whose right the calling page checks). Audited as
    ``clients.beneficiary_account_granted`` / ``_revoked``; setting it to what it is writes
    nothing. Raises ClientError for a person client's beneficiary and NotPermitted for a client
    user who is not the company's contact (the beneficiary's own login among them)."""
    with transaction.atomic():
        row = locks.beneficiary_lock(beneficiary_id=beneficiary.pk)
        client = row.client
        if actor.role == Role.CLIENT and not client.portal_users.filter(pk=actor.pk).exists():
            raise NotPermitted(
                ACCESS_NOT_CONTACT.format(client=client.name, name=row.name), field="beneficiary"
            )
        if client.kind != ClientKind.COMPANY:
            raise ClientError(
                ACCESS_NOT_COMPANY.format(client=client.name, name=row.name), field="beneficiary"
            )
        if row.account_access_granted == granted:
            return row
        row.account_access_granted = granted
        row.updated_at = now
        row.save(update_fields=["account_access_granted", "updated_at"])
        audit.record(
            actor=actor,
            action=(
                "clients.beneficiary_account_granted"
                if granted
                else "clients.beneficiary_account_revoked"
            ),
            at=now,
            obj=row,
            before={"account_access_granted": not granted},
            after={
                "account_access_granted": granted,
                "client": client.pk,
                "by": "client" if actor.role == Role.CLIENT else "firm",
            },
        )
    return row


def pii_reveal(*, obj: Client | Beneficiary, actor: User, now: datetime) -> dict[str, str]:
    """The plaintext identifiers of ``obj`` for a person allowed to see them; records one audit
    event per reveal (who saw which fields of whom). Raises NotPermitted otherwise."""
    scope_obj = obj if isinstance(obj, Client) else obj.client
    require(actor, "clients.reveal_pii", scope_obj)
    values = {
        "a_number": obj.a_number,
        "passport_number": obj.passport_number,
        "date_of_birth": obj.date_of_birth.isoformat() if obj.date_of_birth else "",
        "ssn_itin": obj.ssn_itin,
    }
    shown = sorted(k for k, v in values.items() if v)
    if not shown:
        raise ClientError(REVEAL_NOTHING, field="fields")
    audit.record(
        actor=actor, action="clients.pii_revealed", at=now, obj=obj, after={"fields": shown}
    )
    return {k: v for k, v in values.items() if v}
