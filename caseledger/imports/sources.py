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
* ``mycase-contacts``, ``mycase-cases``, ``docketwise-contacts``, ``docketwise-matters``,
  ``practicepanther-contacts``, ``practicepanther-matters``: none of the three vendors publishes
  the column headers of its CSV export in documentation we could find, so each layout follows the
  closest documented field names and says so next to its entry below (docs/imports.md lists the
  pages). The wizard's "Map columns" step renames any header that differs in a firm's file.
  Their time entries, invoices and (but for MyCase's, below) payments have no source: no page we
  found gives the columns of such an export (docs/imports.md says what each vendor documents).
* ``clio-payments``: Clio's API v4 Allocation (a bill payment applied to one bill: ``id``,
  ``date``, ``amount``, ``bill`` with its ``number``, ``description``, ``payment_type``,
  ``voided_at``) and the ``confirmation`` (reference code) of the BankTransaction it came from.
  The field names are documented; the CSV headers (one column per field, ``bill_number`` for
  ``bill.number``) are not a documented export and are not confirmed.
* ``mycase-payments``: MyCase's Payment History (Billing > Account Activity > Payment History,
  exported with its Export button), documented in words by MyCase's support center ("How to
  view earned income", supportcenter.mycase.com/en/articles/9369982-how-to-view-earned-income):
  the date of the payment, the invoice it pays (if any), the contact, the case, the firm user
  who entered it, the account it went into and its amount. The header spelling is not confirmed.
* ``clio-trust``: Clio Manage's Trust Management report (CSV output): client, matter, amount in
  trust (unbilled amount, minimum threshold and amount below minimum ignored). The report's
  columns are documented in words; the header spelling is not confirmed.
* ``caseledger``: the CaseLedger template (docs/imports.md): a client per row, optionally one
  of its matters, the matter's trust balance and the client's unapplied credit at cutover.
* ``caseledger-payments``: the CaseLedger payments template (docs/imports.md): one payment
  received before the cutover per row, against an imported bill.
* ``caseledger-adjustments``: the CaseLedger adjustments template (docs/imports.md): one credit
  note, write-off or discount the old system applied to an imported bill before the cutover per
  row. No vendor documents such an export with its columns, so no vendor layout ships.
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


# No client type by default: a company row is CORPORATE and a person PRIVATE unless the file or
# the user's chosen default says otherwise (a default would make every company PRIVATE).
CLIENT_DEFAULTS = {"country": "US"}
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
# -- MyCase ---------------------------------------------------------------------------------------
# Documented: MyCase's contact name fields First Name / Middle Name / Last Name and, for a company,
# its name (Universal Migrator, "MyCase Field Mappings", help.universalmigrator.com), and the
# case fields Case Name, Case Number, Case Description, Date Opened / Closed, Practice Area and
# the case's Billing Contact (MyCase support center, "Case Details Page", article 9369884).
# NOT confirmed as export headers: "Company", "Email", "Cell Phone", "Work Phone", "Address",
# "City", "State", "Zip Code", "Country" (the labels of MyCase's contact form; no page we found
# lists the CSV export's header row) and "Billing Contact" as a column of the cases export.
_add(
    Source(
        "mycase-contacts",
        "MyCase: contacts",
        RecordKind.CLIENT,
        _CLIENT_FIELDS,
        {
            "first_name": "First Name",
            "last_name": "Last Name",
            "company": "Company",
            "email": "Email",
            "phone": "Cell Phone",
            "address_line1": "Address",
            "city": "City",
            "region": "State",
            "postal_code": "Zip Code",
            "country": "Country",
        },
        dict(CLIENT_DEFAULTS),
    )
)
_add(
    Source(
        "mycase-cases",
        "MyCase: cases",
        RecordKind.MATTER,
        (
            Field("key", "Case number", required=True),
            Field("title", "Case name", required=True),
            Field("status", "Status (Open, Pending, Closed)"),
            Field("opened_date", "Date opened", required=True),
            Field("closed_date", "Date closed"),
            Field("client_company", "Billing contact (the client's full name)"),
            Field("case_type", "Case type code"),
        ),
        {
            "key": "Case Number",
            "title": "Case Name",
            "opened_date": "Date Opened",
            "closed_date": "Date Closed",
            "client_company": "Billing Contact",
        },
        dict(MATTER_DEFAULTS),
    )
)

# -- Docketwise -----------------------------------------------------------------------------------
# Documented: the fields of a Docketwise contact as its Zapier "Create Contact" action lists them
# (zapier.com, "Create Docketwise contacts from updated 17hats contacts": Is Company?, First Name,
# Last Name, Company Name, Primary E-mail Address, Primary Phone Number, Address Line 1, City,
# State, ZIP Code, Country), and a matter's fields as Case Status's Docketwise integration reads
# them (intercom.help/case-status-support, "Docketwise Field Mapping": Matter ID, Matter Title,
# Matter Description, Date (opened), Client First Name, Client Last Name, Client Email Address,
# Client Phone Number; "Company Name" when the client is a company). These are Docketwise's field
# labels; no page we found shows the header row of Docketwise's own CSV export, so the headers
# are those labels, not confirmed ones. Docketwise documents no matter status or close date.
_add(
    Source(
        "docketwise-contacts",
        "Docketwise: contacts",
        RecordKind.CLIENT,
        _CLIENT_FIELDS,
        {
            "first_name": "First Name",
            "last_name": "Last Name",
            "company": "Company Name",
            "email": "Primary E-mail Address",
            "phone": "Primary Phone Number",
            "address_line1": "Address Line 1",
            "city": "City",
            "region": "State",
            "postal_code": "ZIP Code",
            "country": "Country",
        },
        dict(CLIENT_DEFAULTS),
    )
)
_add(
    Source(
        "docketwise-matters",
        "Docketwise: matters",
        RecordKind.MATTER,
        (
            Field("key", "Matter ID", required=True),
            Field("title", "Matter title", required=True),
            Field("status", "Status (Open, Pending, Closed)"),
            Field("opened_date", "Date opened", required=True),
            Field("closed_date", "Date closed"),
            Field("client_first_name", "Client first name"),
            Field("client_last_name", "Client last name"),
            Field("client_company", "Client company name"),
            Field("case_type", "Case type code"),
        ),
        {
            "key": "Matter ID",
            "title": "Matter Title",
            "opened_date": "Date",
            "client_first_name": "Client First Name",
            "client_last_name": "Client Last Name",
            "client_company": "Company Name",
        },
        dict(MATTER_DEFAULTS),
    )
)

# -- PracticePanther ------------------------------------------------------------------------------
# Documented: PracticePanther's v1 API export objects (app.practicepanther.com, OpenAPI
# "Legacy API (v1)": AccountDTO_Export and ProjectDTO, the records its exports list). A client is
# an account: number (unique), name, primaryContact (firstName, lastName, email, mobile, home,
# office), billingAddress (address1, city, state, postalCode, country), status, trustBalance. A
# matter is a project: number (unique), name, account, openDate, closeDate, status (Open, Pending,
# Closed, Archived; Archived is read as Closed), trustBalance (the matter's trust balance: a row
# with one imports it as the matter's opening trust balance, as the CaseLedger template's
# trust_balance does; export on the cutover date). The headers below are those fields in words
# ("Account Number" for account.number, "Postal Code" for billingAddress.postalCode); no page we
# found shows the header row of PracticePanther's CSV export, so they are not confirmed headers.
# The client's name is the account's name: a company account imports as a PERSON client unless
# the mapping's client type default says CORPORATE.
_add(
    Source(
        "practicepanther-contacts",
        "PracticePanther: contacts (accounts)",
        RecordKind.CLIENT,
        _CLIENT_FIELDS,
        {
            "key": "Account Number",
            "name": "Account Name",
            "email": "Email",
            "phone": "Mobile",
            "address_line1": "Address 1",
            "city": "City",
            "region": "State",
            "postal_code": "Postal Code",
            "country": "Country",
        },
        dict(CLIENT_DEFAULTS),
    )
)
_add(
    Source(
        "practicepanther-matters",
        "PracticePanther: matters",
        RecordKind.MATTER,
        (
            Field("key", "Matter number", required=True),
            Field("title", "Matter name", required=True),
            Field("status", "Status (Open, Pending, Closed, Archived)"),
            Field("opened_date", "Open date", required=True),
            Field("closed_date", "Close date"),
            Field("client_company", "Account name (the client)"),
            Field("case_type", "Case type code"),
            Field("trust_balance", "Trust balance (on the cutover date)"),
        ),
        {
            "key": "Matter Number",
            "title": "Matter Name",
            "status": "Status",
            "opened_date": "Open Date",
            "closed_date": "Close Date",
            "client_company": "Account Name",
            "trust_balance": "Trust Balance",
        },
        dict(MATTER_DEFAULTS),
    )
)

# -- Clio: payments and trust ---------------------------------------------------------------------
# Payments: Clio's API v4 documents a bill payment as an Allocation (the money of a bank
# transaction or credit memo applied to one bill): id, date (the date it was applied), amount,
# bill (id, number), matter, contact, description, payment_type (card or eCheck), interest,
# voided_at; its parent BankTransaction carries confirmation ("the reference code for the
# transaction") and source. The headers below are those field names, one column each
# (bill_number for bill.number); no page we found shows a CSV export of payments with its
# header row, so they are not confirmed headers. A voided allocation (voided_at set) is not a
# payment and is skipped.
PAYMENT_FIELDS = (
    Field("key", "Payment id (import key)"),
    Field("bill", "Bill number", required=True),
    Field("date", "Payment date", required=True),
    Field("amount", "Amount", required=True),
    Field("method", "Method"),
    Field("reference", "Reference"),
    Field("description", "Description"),
    Field("voided", "Voided at (a voided payment is skipped)"),
)
_add(
    Source(
        "clio-payments",
        "Clio: bill payments before the cutover (history)",
        RecordKind.PAYMENT,
        PAYMENT_FIELDS,
        {
            "key": "id",
            "bill": "bill_number",
            "date": "date",
            "amount": "amount",
            "method": "payment_type",
            "reference": "confirmation",
            "description": "description",
            "voided": "voided_at",
        },
        {},
    )
)
# MyCase's Payment History (Billing > Account Activity > Payment History, Export) is documented
# as showing "the date the payment was made, the invoice it is related to (if applicable), the
# contact, the case, which firm user entered the payment, which account the payment was deposited
# into and the total amount of the payment" (supportcenter.mycase.com/en/articles/
# 9369982-how-to-view-earned-income). The headers below are those columns in words and are not
# confirmed. It has no payment id, method or reference: the import key is the invoice, date and
# amount. A payment into credit (no invoice) is no bill payment and is refused
# (missing_required): filter the history to invoice payments before exporting.
_add(
    Source(
        "mycase-payments",
        "MyCase: invoice payments before the cutover (Payment History, history)",
        RecordKind.PAYMENT,
        PAYMENT_FIELDS,
        {"bill": "Invoice", "date": "Date", "amount": "Amount"},
        {},
    )
)
# Trust: Clio Manage's Trust Management report (Reports > Client > Trust management, output
# .CSV) is documented as "categorized by client, matter, unbilled amount, amount in trust,
# minimum threshold, and amount below minimum" (support.clio.com, article 360002936834). The
# headers below are those categories in words and are not confirmed. Generate it for the
# cutover date, all trust accounts. Clio can hold trust funds at the client level (no matter);
# CaseLedger keeps trust per client and matter, so such a row is refused until the funds are
# moved to a matter in Clio. (The same figure is Clio's API v4 Matter.account_balances entry of
# type Trust.)
_add(
    Source(
        "clio-trust",
        "Clio: trust balances per client and matter (Trust Management report)",
        RecordKind.TRUST,
        (
            Field("client", "Client name"),
            Field("matter", "Matter number", required=True),
            Field("trust_balance", "Amount in trust (on the cutover date)", required=True),
        ),
        {"client": "Client", "matter": "Matter", "trust_balance": "Amount in Trust"},
        {},
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

_add(
    Source(
        "caseledger-payments",
        "CaseLedger template: payments before the cutover (history)",
        RecordKind.PAYMENT,
        PAYMENT_FIELDS,
        {
            "key": "payment_key",
            "bill": "bill_number",
            "date": "payment_date",
            "amount": "amount",
            "method": "method",
            "reference": "reference",
        },
        {},
    )
)

# Adjustments: no vendor documents an export of the credit notes, write-offs or discounts applied
# to bills with its columns (docs/imports.md, "Credit notes, write-offs and discounts": what
# Clio, MyCase and QuickBooks document and why no vendor layout ships), so only the CaseLedger
# template reads them; map another file's columns onto it on the "Map columns" page.
ADJUSTMENT_FIELDS = (
    Field("key", "Adjustment id (import key)"),
    Field("bill", "Bill number", required=True),
    Field("date", "Adjustment date", required=True),
    Field("kind", "Kind (CREDIT_NOTE, WRITE_OFF or DISCOUNT)", required=True),
    Field("amount", "Amount", required=True),
    Field("reason", "Reason"),
)
_add(
    Source(
        "caseledger-adjustments",
        "CaseLedger template: credit notes, write-offs and discounts before the cutover (history)",
        RecordKind.ADJUSTMENT,
        ADJUSTMENT_FIELDS,
        {
            "key": "adjustment_key",
            "bill": "bill_number",
            "date": "adjustment_date",
            "kind": "kind",
            "amount": "amount",
            "reason": "reason",
        },
        {},
    )
)

LINE_CATEGORIES = ("fees", "government_fees", "expenses", "tax")
