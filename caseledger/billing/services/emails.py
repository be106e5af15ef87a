"""Invoice emails through the one outbox (``core.outbox``).

The message is enqueued in the issuing transaction, keyed ``billing.invoice:<id>:issued`` (so one
per invoice, however often the task or a person retries). Its PDF is not copied onto the outbox
row: the renderer below attaches the invoice's stored PDF (``InvoicePdf``, written in the same
transaction and never changed) when the message is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from caseledger.billing.models import Invoice, InvoicePdf
from caseledger.core import outbox
from caseledger.core.models import OutboxMessage

INVOICE_ISSUED_KIND = "billing.invoice_issued"
INVOICE_PDF_RENDERER = "billing.invoice_pdf"


@outbox.register_attachment_renderer(INVOICE_PDF_RENDERER)
def invoice_pdf_attachment(*, invoice_id: int) -> outbox.Attachment | None:
    """The invoice's stored PDF, read at send time (None when the invoice has none)."""
    pdf = InvoicePdf.objects.filter(invoice_id=invoice_id).select_related("invoice").first()
    if pdf is None:
        return None
    return outbox.Attachment(
        filename=f"invoice-{pdf.invoice.number}.pdf",
        content=bytes(pdf.content),
        mimetype="application/pdf",
    )


def invoice_email_queue(
    *, invoice: Invoice, to_email: str, subject: str, body: str, now: datetime
) -> OutboxMessage:
    """Enqueue the issued invoice's email with its PDF (in the caller's transaction)."""
    return outbox.enqueue(
        key=f"billing.invoice:{invoice.pk}:issued",
        kind=INVOICE_ISSUED_KIND,
        to=[to_email],
        subject=subject,
        body=body,
        attachments=[outbox.AttachmentSpec(INVOICE_PDF_RENDERER, {"invoice_id": invoice.pk})],
        related=invoice,
        now=now,
    )


def invoice_email_retry(*, message: OutboxMessage, actor: Any, now: datetime) -> OutboxMessage:
    """From the invoice page: send a failed invoice email again (who may issue the invoice may
    resend its email). Raises NotPermitted, or OutboxError unless the message failed."""
    invoice = Invoice.objects.get(pk=message.related_id or 0)
    return outbox.message_retry(
        message=message, actor=actor, now=now, capability="billing.issue", obj=invoice
    )
