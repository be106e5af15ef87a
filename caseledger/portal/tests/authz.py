"""Authorization matrix for the portal (format: caseledger/core/tests/test_authz_matrix.py).
Client pages are for client users only, on objects of their own client (``ctx.users["CLIENT"]``
is a portal user of the matter's client); staff get 403. Another client's object is a 404
(portal/tests/test_portal.py). The staff routes (invite, reply) follow the client and matter
scopes: the matter is staffed by the attorney and paralegal of ``ctx.users``."""

from __future__ import annotations

from typing import Any

from caseledger.payments.tests.authz import issued, team_matter
from caseledger.trust.tests.authz import _request

CLIENT_ONLY = frozenset({"CLIENT"})
INVITE = frozenset({"ADMIN", "PARTNER", "ATTORNEY", "BILLING"})
REPLY = frozenset({"ADMIN", "PARTNER", "ATTORNEY", "PARALEGAL", "BILLING"})


def matter_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": team_matter(ctx).pk}


def company_contact(ctx: Any) -> dict[str, Any]:
    """No URL arguments; makes ``ctx.users["CLIENT"]`` a portal user of a company client."""
    team_matter(ctx)
    return {}


def invoice_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": issued(ctx).pk}


def pay_data(ctx: Any) -> dict[str, Any]:
    return {"invoice": [issued(ctx).pk]}


def request_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": _request(ctx, team_matter(ctx)).pk}


def refund_note(ctx: Any) -> Any:
    """A credit note waiting for approval that refunds the client by check."""
    from caseledger.credits.services import credit_note_request
    from caseledger.payments.services import Allocation, payment_record
    from caseledger.payments.tests.authz import NOW_DATE

    invoice = issued(ctx, cents=80_000)

    payment_record(
        client=invoice.client,
        method="CHECK",
        payer="Acme",
        reference="CHK-1001",
        amount_cents=80_000,
        received_date=NOW_DATE,
        allocations=[Allocation(invoice, 80_000)],
        actor=None,
        now=ctx.now,
    )
    return credit_note_request(
        invoice=invoice,
        reason_code="OVERPAYMENT",
        amount_cents=60_000,  # above the firm's approval threshold: waits for a partner
        refund_cents=60_000,
        refund_method="CHECK",
        actor=ctx.users["BILLING"],
        now=ctx.now,
    )


def shared_document(ctx: Any) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from caseledger.matters.documents import document_upload

    return document_upload(
        matter=team_matter(ctx),
        upload=SimpleUploadedFile("approval.pdf", b"%PDF-1.7\n%%EOF\n"),
        title="Approval notice",
        kind="APPROVAL_NOTICE",
        actor=ctx.users["PARALEGAL"],
        now=ctx.now,
        share=True,
    )


def document_link_kwargs(ctx: Any) -> dict[str, Any]:
    """A fresh link made for the user asking (the client user's for anonymous)."""
    from django.utils import timezone

    from caseledger.matters.documents import document_token

    user = ctx.user or ctx.users["CLIENT"]
    return {"token": document_token(document=shared_document(ctx), user=user, at=timezone.now())}


def client_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": team_matter(ctx).client_id}


MATRIX: dict[str, dict[str, Any]] = {
    "portal:home": {"allow": CLIENT_ONLY},
    "portal:case_detail": {"allow": CLIENT_ONLY, "kwargs": matter_kwargs},
    "portal:message_post": {
        "allow": CLIENT_ONLY,
        "method": "POST",
        "kwargs": matter_kwargs,
        "data": {"body": "When is my interview?"},
    },
    "portal:document_download": {"allow": CLIENT_ONLY, "kwargs": document_link_kwargs},
    "portal:invoices": {"allow": CLIENT_ONLY},
    "portal:invoices_pay": {"allow": CLIENT_ONLY, "method": "POST", "data": pay_data},
    "portal:invoice_pdf": {"allow": CLIENT_ONLY, "kwargs": invoice_kwargs},
    "portal:trust": {"allow": CLIENT_ONLY},
    "portal:trust_request_pay": {"allow": CLIENT_ONLY, "method": "POST", "kwargs": request_kwargs},
    "portal:trust_statement": {"allow": CLIENT_ONLY},
    "portal:credits": {"allow": CLIENT_ONLY},
    "portal:refund_authorize": {
        "allow": CLIENT_ONLY,
        "method": "POST",
        "kwargs": lambda ctx: {"pk": refund_note(ctx).pk},
    },
    "portal:language": {"allow": CLIENT_ONLY, "method": "POST", "data": {"language": "es"}},
    # The portal API: the client user's own records only (another client's are 404,
    # api/tests/test_portal_api.py); staff are refused and use the firm's routes.
    "GET /api/v1/portal/cases": {"allow": CLIENT_ONLY},
    "GET /api/v1/portal/cases/{case_id}": {
        "allow": CLIENT_ONLY,
        "kwargs": lambda ctx: {"case_id": team_matter(ctx).pk},
    },
    "GET /api/v1/portal/invoices": {"allow": CLIENT_ONLY},
    "GET /api/v1/portal/invoices/{invoice_id}": {
        "allow": CLIENT_ONLY,
        "kwargs": lambda ctx: {"invoice_id": issued(ctx).pk},
    },
    "GET /api/v1/portal/trust": {"allow": CLIENT_ONLY},
    "GET /api/v1/portal/documents": {"allow": CLIENT_ONLY},
    # The company's page: the client user is a contact of team_matter's company client.
    "portal:beneficiaries": {"allow": CLIENT_ONLY, "kwargs": company_contact},
    "portal:beneficiary_access": {
        "allow": CLIENT_ONLY,
        "method": "POST",
        "kwargs": lambda ctx: {"pk": team_matter(ctx).beneficiary_id},
        "data": {"granted": "1"},
    },
    "portal:staff_beneficiary_access": {
        "allow": INVITE,
        "method": "POST",
        "kwargs": matter_kwargs,
        "data": {"granted": "1"},
    },
    "portal:invite": {"allow": INVITE, "method": "POST", "kwargs": client_kwargs},
    "portal:invite_beneficiary": {
        "allow": INVITE,
        "method": "POST",
        "kwargs": matter_kwargs,
        "data": {"email": "beneficiary@mail.example", "language": "en"},
    },
    "portal:staff_reply": {
        "allow": REPLY,
        "method": "POST",
        "kwargs": matter_kwargs,
        "data": {"body": "Your interview is on the 5th."},
    },
}
