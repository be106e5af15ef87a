"""Authorization matrix for the banking pages and API (format: caseledger/core/tests/
test_authz_matrix.py). Bank accounts are firm-wide: admin, partner and billing."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

BOOKS = frozenset({"ADMIN", "PARTNER", "BILLING"})


def _account(ctx: Any) -> Any:
    from caseledger.banking.models import BankAccount
    from caseledger.banking.tests.factories import trust_bank_account

    return BankAccount.objects.first() or trust_bank_account(ctx.now)


def account_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": _account(ctx).pk}


def api_account_kwargs(ctx: Any) -> dict[str, Any]:
    return {"account_id": _account(ctx).pk}


def _imported(ctx: Any) -> Any:
    from caseledger.banking import services
    from caseledger.banking.tests.factories import fixture_bytes

    return services.statement_import(
        bank_account=_account(ctx),
        file_name="march.xml",
        content=fixture_bytes("camt053_v02_two_statements.xml"),
        actor=None,
        now=ctx.now,
    ).statement_import


def import_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": _imported(ctx).pk}


def api_import_kwargs(ctx: Any) -> dict[str, Any]:
    return {"import_id": _imported(ctx).pk}


def statement_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": _imported(ctx).statements.first().pk}


def mapping_kwargs(ctx: Any) -> dict[str, Any]:
    from caseledger.banking import services
    from caseledger.banking.tests.factories import fixture_bytes

    imp = services.statement_import_queue(
        bank_account=_account(ctx),
        file_name="x.csv",
        content=fixture_bytes("csv_ambiguous_dates.csv"),
        actor=None,
        now=ctx.now,
    )
    return {"pk": imp.pk}


def upload_data(ctx: Any) -> dict[str, Any]:
    from caseledger.banking.tests.factories import fixture_bytes

    return {
        "file": SimpleUploadedFile("march.xml", fixture_bytes("camt053_v02_two_statements.xml"))
    }


def new_account_data(ctx: Any) -> dict[str, Any]:
    from caseledger.ledger.models import Account

    return {
        "name": "Operating",
        "bank_name": "Example Bank",
        "number": "4400987654",
        "ledger_account": Account.objects.get(code="1000").pk,
    }


MATRIX: dict[str, dict[str, Any]] = {
    "banking:accounts": {"allow": BOOKS},
    "banking:account_new": {"allow": BOOKS},
    "banking:account": {"allow": BOOKS, "kwargs": account_kwargs},
    "banking:account_edit": {"allow": BOOKS, "kwargs": account_kwargs},
    "banking:import_upload": {
        "allow": BOOKS,
        "method": "POST",
        "kwargs": account_kwargs,
        "data": upload_data,
    },
    "banking:import": {"allow": BOOKS, "kwargs": import_kwargs},
    "banking:import_mapping": {"allow": BOOKS, "kwargs": mapping_kwargs},
    "banking:statement": {"allow": BOOKS, "kwargs": statement_kwargs},
    "GET /api/v1/banking/accounts": {"allow": BOOKS},
    # A multipart upload (the schema requires the file, so a JSON body is a 422 for everyone).
    "POST /api/v1/banking/accounts/{account_id}/statements": {
        "allow": BOOKS,
        "kwargs": api_account_kwargs,
        "multipart": upload_data,
    },
    "GET /api/v1/banking/imports/{import_id}": {"allow": BOOKS, "kwargs": api_import_kwargs},
}
