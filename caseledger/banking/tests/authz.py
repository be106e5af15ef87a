"""Authorization matrix for the banking pages and API (format: caseledger/core/tests/
test_authz_matrix.py). Bank accounts are firm-wide: admin, partner and billing."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

BOOKS = frozenset({"ADMIN", "PARTNER", "BILLING"})
RECON_VIEW = frozenset({"ADMIN", "PARTNER", "ATTORNEY", "BILLING"})
LAWYERS = frozenset({"PARTNER", "ATTORNEY"})


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


def _line(ctx: Any) -> Any:
    return _imported(ctx).statements.first().lines.order_by("id").first()


def line_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": _line(ctx).pk}


def api_line_kwargs(ctx: Any) -> dict[str, Any]:
    return {"account_id": _account(ctx).pk, "line_id": _line(ctx).pk}


def _record(ctx: Any, status: str) -> Any:
    """A reconciliation row of March 2026 prepared by a billing user of its own."""
    from datetime import date

    from caseledger.banking.models import Reconciliation

    signed = status == "SIGNED"
    return Reconciliation.objects.create(
        bank_account=_account(ctx),
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        status=status,
        report={},
        report_sha256="0" * 64,
        chain_hash="1" * 64 if signed else "",
        statement_balance_cents=0,
        adjusted_bank_cents=0,
        journal_cents=0,
        is_balanced=True,
        prepared_by=ctx.make_user(role="BILLING"),
        prepared_at=ctx.now,
        signed_by=ctx.make_user(role="PARTNER") if signed else None,
        signed_at=ctx.now if signed else None,
        pdf=b"%PDF-1.4 archived" if signed else b"",
    )


def prepared_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": _record(ctx, "PREPARED").pk}


def signed_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": _record(ctx, "SIGNED").pk}


def prepare_kwargs(ctx: Any) -> dict[str, Any]:
    _imported(ctx)
    return account_kwargs(ctx)


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
    "banking:matching": {"allow": BOOKS, "kwargs": account_kwargs},
    # An empty accept (nothing shown) redirects back to the workbench.
    "banking:matching_accept": {
        "allow": BOOKS,
        "method": "POST",
        "kwargs": account_kwargs,
        "data": lambda ctx: {"shown": "0:0"},
        "status": {"ADMIN": 302, "PARTNER": 302, "BILLING": 302},
    },
    "banking:line": {"allow": BOOKS, "kwargs": line_kwargs},
    # Nothing chosen: the line page again with the field's error.
    "banking:line_match": {
        "allow": BOOKS,
        "method": "POST",
        "kwargs": line_kwargs,
        "status": {"ADMIN": 400, "PARTNER": 400, "BILLING": 400},
    },
    # Nothing chosen: the line page again with the fields' errors.
    "banking:line_split": {
        "allow": BOOKS,
        "method": "POST",
        "kwargs": line_kwargs,
        "status": {"ADMIN": 400, "PARTNER": 400, "BILLING": 400},
    },
    # Not matched: back to the line page with the refusal.
    "banking:line_unmatch": {
        "allow": BOOKS,
        "method": "POST",
        "kwargs": line_kwargs,
        "status": {"ADMIN": 302, "PARTNER": 302, "BILLING": 302},
    },
    "banking:line_resolve": {
        "allow": BOOKS,
        "method": "POST",
        "kwargs": line_kwargs,
        "status": {"ADMIN": 400, "PARTNER": 400, "BILLING": 400},
    },
    "GET /api/v1/banking/accounts": {"allow": BOOKS},
    "GET /api/v1/banking/accounts/{account_id}/suggestions": {
        "allow": BOOKS,
        "kwargs": api_account_kwargs,
    },
    # Empty body: roles past authorization get 409 (line_id: required, a service refusal).
    "POST /api/v1/banking/accounts/{account_id}/matches": {
        "allow": BOOKS,
        "kwargs": api_account_kwargs,
        "status": {"ADMIN": 409, "PARTNER": 409, "BILLING": 409},
    },
    # The line has no match: 409 (a service refusal).
    "DELETE /api/v1/banking/accounts/{account_id}/matches/{line_id}": {
        "allow": BOOKS,
        "kwargs": api_line_kwargs,
        "status": {"ADMIN": 409, "PARTNER": 409, "BILLING": 409},
    },
    # A multipart upload (the schema requires the file, so a JSON body is a 422 for everyone).
    "POST /api/v1/banking/accounts/{account_id}/statements": {
        "allow": BOOKS,
        "kwargs": api_account_kwargs,
        "multipart": upload_data,
    },
    "GET /api/v1/banking/imports/{import_id}": {"allow": BOOKS, "kwargs": api_import_kwargs},
    "banking:reconciliation_home": {"allow": RECON_VIEW},
    "banking:reconciliation_settings": {"allow": frozenset({"ADMIN", "PARTNER"})},
    "banking:reconciliation": {"allow": RECON_VIEW, "kwargs": account_kwargs},
    "banking:reconciliation_clients": {"allow": RECON_VIEW, "kwargs": account_kwargs},
    "banking:reconciliation_archive": {"allow": RECON_VIEW, "kwargs": account_kwargs},
    "banking:reconciliation_prepare": {
        "allow": BOOKS,
        "method": "POST",
        "kwargs": prepare_kwargs,
        "data": {"period_end": "2026-03-31"},
    },
    # Signing a row whose figures are not the live ones is refused by the service: the
    # reviewer is sent back to the report with the message (a redirect, past authorization).
    "banking:reconciliation_sign": {"allow": LAWYERS, "method": "POST", "kwargs": prepared_kwargs},
    "banking:reconciliation_reopen": {
        "allow": frozenset({"PARTNER"}),
        "method": "POST",
        "kwargs": signed_kwargs,
        "data": {"reason": "Bank fee recorded late"},
    },
    "banking:reconciliation_pdf": {"allow": RECON_VIEW, "kwargs": signed_kwargs},
    "GET /api/v1/banking/accounts/{account_id}/reconciliation": {
        "allow": RECON_VIEW,
        "kwargs": api_account_kwargs,
    },
}
