"""The trigger engine: a stage event drafts its template's invoice, once per (matter, trigger).

``on_stage_event`` is registered with ``matters.hooks.register_stage_listener`` in
``BillingConfig.ready`` and runs inside the stage-advance transaction. Idempotency rests on the
unique (matter, trigger) row of TriggerFiring, inserted first inside a savepoint: a retry, or a
second request racing this one, hits the constraint (PostgreSQL makes the second insert wait for
the first transaction, then fail) and drafts nothing. No check-then-insert.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import BillingTrigger, Invoice, TriggerFiring
from caseledger.billing.selectors import stage_triggers_for
from caseledger.billing.services.invoices import invoice_draft_create, invoice_transition
from caseledger.core import audit
from caseledger.core.choices import Role
from caseledger.core.exceptions import ApplicationError

log = logging.getLogger(__name__)


class _NothingToBill(Exception):
    """The template produced no line (rolls the empty draft back)."""


def trigger_fire(
    *, trigger: BillingTrigger, matter: Any, at: datetime, actor: Any, now: datetime
) -> Invoice | None:
    """Draft ``trigger``'s invoice for ``matter`` and put it in the review queue, unless this
    (matter, trigger) already fired. Returns the new draft or None.

    A drafting refusal (e.g. a payer rule, a missing government fee) does not block the stage
    advance: the savepoint is rolled back (so a later event can fire again) and a task is
    opened for billing with the message."""
    try:
        with transaction.atomic():
            firing = TriggerFiring.objects.create(matter=matter, trigger=trigger, fired_at=at)
    except IntegrityError:
        return None
    try:
        with transaction.atomic():
            invoice = invoice_draft_create(
                matter=matter,
                actor=None,
                now=now,
                bill_to=trigger.template.bill_to,
                template=trigger.template,
                triggered_at=at,
            )
            if not invoice.lines.exists():
                raise _NothingToBill
            invoice_transition(
                invoice=invoice, to_status=InvoiceStatus.IN_REVIEW, actor=None, now=now
            )
            TriggerFiring.objects.filter(pk=firing.pk).update(invoice=invoice)
    except _NothingToBill:
        # An hourly template with no unbilled work: the milestone is recorded, no empty draft.
        audit.record(
            actor=None,
            action="billing.trigger_nothing_to_bill",
            at=now,
            obj=trigger,
            after={"matter": matter.number},
            actor_label="billing engine",
        )
        return None
    except ApplicationError as exc:
        TriggerFiring.objects.filter(pk=firing.pk).delete()
        _report_failure(trigger=trigger, matter=matter, message=exc.message, now=now)
        return None
    return invoice


def _report_failure(*, trigger: BillingTrigger, matter: Any, message: str, now: datetime) -> None:
    from caseledger.matters.services import task_open_for_system

    log.warning("billing trigger %s on %s failed: %s", trigger.pk, matter.pk, message)
    audit.record(
        actor=None,
        action="billing.trigger_failed",
        at=now,
        obj=trigger,
        after={"matter": matter.number, "message": message},
        actor_label="billing engine",
    )
    task_open_for_system(
        key=f"billing.trigger:{trigger.pk}:{matter.pk}",
        matter=matter,
        title=f"Billing: could not draft {trigger.template.name}",
        description=message,
        due_date=now.date(),
        now=now,
        assignee_role=Role.BILLING,
    )


def on_stage_event(event: Any) -> None:
    """Stage listener: fire every active trigger of the matter's case type for this stage."""
    matter = event.matter
    case_type_id = getattr(matter, "case_type_id", None)
    if case_type_id is None:
        return
    for trigger in stage_triggers_for(case_type_id=case_type_id, stage_id=event.stage_id):
        trigger_fire(trigger=trigger, matter=matter, at=event.at, actor=event.actor, now=event.at)
