"""The sources the importer reads and the mapping shipped for each: the columns each system's
export (or import template) documents, mapped to the fields the importer fills.

Where the headers come from (docs/imports.md lists them in full):

* ``clio-contacts``, ``clio-matters``, ``clio-activities``: Clio Manage's migration templates
  (help.clio.com, "Migration Templates for Importing Into Clio Manage" and "How Do I Fill Out
  The Matters Import Template?"): lower snake case headers such as ``first_name``,
  ``email_address``, ``custom_number``, ``open_date`` (MM/DD/YYYY).
* ``clio-bills``: Clio's bill fields (``number``, ``issued_at``, ``due_at``, ``total``,
  ``balance``) with one row per bill line (``line_type``, ``line_description``, ``line_total``).
* ``qbd-customers``: QuickBooks Desktop's Customers & Jobs IIF list (``NAME``, ``REFNUM``,
  ``COMPANYNAME``, ``BADDR1``, ``PHONE1``, ``EMAIL``).
* ``qbo-customers``: QuickBooks Online's customer import fields (``Full Name``, ``Company``,
  ``Email``, ``Phone``, ``Street``, ``City``, ``State``, ``ZIP code``, ``Country``).
* ``caseledger``: the CaseLedger template (docs/imports.md): a client per row, optionally one
  of its matters, the matter's trust balance and the client's unapplied credit at cutover.
"""

from __future__ import annotations

from dataclasses import dataclass

from caseledger.imports.choices import RecordKind


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    required: bool = False


@dataclass(frozen=True)
class Source:
    code: str
    label: str
    kind: str
    fields: tuple[Field, ...]
    columns: dict[str, str]  # shipped mapping: field -> header
    defaults: dict[str, str]

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


CLIENT_DEFAULTS = {"client_type": "PRIVATE", "country": "US"}
MATTER_DEFAULTS = {"case_type": "consultation"}

_CLIENT_FIELDS = (
    Field("key", "Import key (the old system's id)"),
    Field("name", "Full name"),
    Field("first_name", "First name"),
    Field("last_name", "Last name"),
    Field("company", "Company name"),
    Field("email", "Email"),
    Field("phone", "Phone"),
    Field("address_line1", "Street"),
    Field("city", "City"),
    Field("region", "State / region"),
    Field("postal_code", "Postal code"),
    Field("country", "Country"),
    Field("client_type", "Client type (PRIVATE or CORPORATE)"),
)

SOURCES: dict[str, Source] = {}


def _add(source: Source) -> None:
    SOURCES[source.code] = source


_add(
    Source(
        "clio-contacts",
        "Clio: contacts",
        RecordKind.CLIENT,
        _CLIENT_FIELDS,
        {
            "first_name": "first_name",
            "last_name": "last_name",
            "company": "company",
            "email": "email_address",
            "phone": "primary_phone",
            "address_line1": "business_street",
            "city": "business_city",
            "region": "business_state",
            "postal_code": "business_postal_code",
        },
        dict(CLIENT_DEFAULTS),
    )
)
_add(
    Source(
        "qbd-customers",
        "QuickBooks Desktop: customers",
        RecordKind.CLIENT,
        _CLIENT_FIELDS,
        {
            "key": "REFNUM",
            "name": "NAME",
            "first_name": "FIRSTNAME",
            "last_name": "LASTNAME",
            "company": "COMPANYNAME",
            "email": "EMAIL",
            "phone": "PHONE1",
            "address_line1": "BADDR1",
        },
        dict(CLIENT_DEFAULTS),
    )
)
_add(
    Source(
        "qbo-customers",
        "QuickBooks Online: customers",
        RecordKind.CLIENT,
        _CLIENT_FIELDS,
        {
            "name": "Full Name",
            "company": "Company",
            "email": "Email",
            "phone": "Phone",
            "address_line1": "Street",
            "city": "City",
            "region": "State",
            "postal_code": "ZIP code",
            "country": "Country",
        },
        dict(CLIENT_DEFAULTS),
    )
)
_add(
    Source(
        "clio-matters",
        "Clio: matters",
        RecordKind.MATTER,
        (
            Field("key", "Matter number", required=True),
            Field("title", "Description", required=True),
            Field("status", "Status (Open, Pending, Closed)"),
            Field("opened_date", "Open date", required=True),
            Field("closed_date", "Close date"),
            Field("client_first_name", "Client first name"),
            Field("client_last_name", "Client last name"),
            Field("client_company", "Client company name"),
            Field("case_type", "Case type code"),
        ),
        {
            "key": "custom_number",
            "title": "description",
            "status": "status",
            "opened_date": "open_date",
            "closed_date": "close_date",
            "client_first_name": "client_first_name",
            "client_last_name": "client_last_name",
            "client_company": "client_company_name",
        },
        dict(MATTER_DEFAULTS),
    )
)
_add(
    Source(
        "clio-activities",
        "Clio: activities (time and expenses)",
        RecordKind.ACTIVITY,
        (
            Field("matter", "Matter number", required=True),
            Field("date", "Date", required=True),
            Field("type", "Type (TimeEntry or ExpenseEntry)"),
            Field("user", "User"),
            Field("quantity", "Quantity (hours)"),
            Field("price", "Price (rate)", required=True),
            Field("description", "Description"),
        ),
        {
            "matter": "matter",
            "date": "date",
            "type": "type",
            "user": "activity_user",
            "quantity": "quantity",
            "price": "price",
            "description": "note",
        },
        {"type": "TimeEntry", "quantity": "1"},
    )
)
_add(
    Source(
        "clio-bills",
        "Clio: bills (one row per line)",
        RecordKind.INVOICE,
        (
            Field("number", "Bill number", required=True),
            Field("client", "Client name", required=True),
            Field("matter", "Matter number", required=True),
            Field("issue_date", "Issued", required=True),
            Field("due_date", "Due"),
            Field("total", "Total", required=True),
            Field("balance", "Balance (still open)", required=True),
            Field("line_category", "Line category"),
            Field("line_description", "Line description"),
            Field("line_amount", "Line amount", required=True),
        ),
        {
            "number": "number",
            "client": "client",
            "matter": "matter",
            "issue_date": "issued_at",
            "due_date": "due_at",
            "total": "total",
            "balance": "balance",
            "line_category": "line_type",
            "line_description": "line_description",
            "line_amount": "line_total",
        },
        {"line_category": "fees"},
    )
)
_add(
    Source(
        "caseledger",
        "CaseLedger template (clients, matters, trust and credit at cutover)",
        RecordKind.CLIENT,
        (
            Field("key", "client_key", required=True),
            Field("name", "client_name", required=True),
            Field("kind", "client_kind (PERSON or COMPANY)"),
            Field("email", "email"),
            Field("phone", "phone"),
            Field("client_type", "client_type (PRIVATE or CORPORATE)"),
            Field("matter_key", "matter_key"),
            Field("matter_title", "matter_title"),
            Field("case_type", "case_type"),
            Field("opened_date", "opened_date"),
            Field("closed_date", "closed_date"),
            Field("trust_balance", "trust_balance"),
            Field("unapplied_credit", "unapplied_credit"),
        ),
        {
            "key": "client_key",
            "name": "client_name",
            "kind": "client_kind",
            "email": "email",
            "phone": "phone",
            "client_type": "client_type",
            "matter_key": "matter_key",
            "matter_title": "matter_title",
            "case_type": "case_type",
            "opened_date": "opened_date",
            "closed_date": "closed_date",
            "trust_balance": "trust_balance",
            "unapplied_credit": "unapplied_credit",
        },
        {**CLIENT_DEFAULTS, **MATTER_DEFAULTS, "kind": "PERSON"},
    )
)

LINE_CATEGORIES = ("fees", "government_fees", "expenses", "tax")
