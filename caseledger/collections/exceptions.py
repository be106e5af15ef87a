"""Refusals of the collections app. Messages name the field and the rule; tests assert the text."""

from __future__ import annotations

from caseledger.core.exceptions import ApplicationError


class CollectionsError(ApplicationError):
    code = "collections_refused"


POLICY_NAME_REQUIRED = "name: required"
POLICY_CLIENT_TYPE_INVALID = (
    "client_type: must be blank (firm default) or one of {choices} (got {value!r})"
)
POLICY_CLIENT_TYPE_TAKEN = "client_type: a policy for {label} clients already exists"
POLICY_NO_STAGES = "stages: a policy needs at least one stage"
STAGE_CODE_INVALID = "stages[{index}].code: lower-case letters, digits and _ only (got {value!r})"
STAGE_CODE_DUPLICATE = "stages[{index}].code: {value!r} is used by another stage of this policy"
STAGE_NAME_REQUIRED = "stages[{index}].name: required"
STAGE_FROM_INVALID = "stages[{index}].days_from: must be 1 or more days past due (got {value})"
STAGE_RANGE_INVALID = (
    "stages[{index}].days_to: must be blank or at least days_from {days_from} (got {value})"
)
STAGE_NO_ACTION = (
    "stages[{index}]: choose at least one action (email, letter, task, escalation or hold)"
)
STAGE_SUBJECT_REQUIRED = (
    "stages[{index}].subject: required when the stage sends an email or a letter"
)
STAGE_PLACEHOLDER_INVALID = "stages[{index}].{field}: unknown placeholder {{{name}}}; use {allowed}"
STAGES_OVERLAP = (
    "stages: {first!r} ({first_range}) overlaps {second!r} ({second_range}); each day past due "
    "may belong to one stage only"
)
AT_RISK_DAYS_INVALID = "at_risk_days: must be between 1 and 365 (got {value})"
PROMISE_DATE_PAST = "promised_date: must be on or after {today} (got {value})"
PROMISE_AMOUNT_INVALID = "promised_amount: must be positive (got {value})"
INVOICE_NOT_OPEN = "invoice: {invoice} has no balance due; nothing to collect"
DISPUTE_REASON_REQUIRED = "reason: say what the client disputes"
DISPUTE_ALREADY_OPEN = "invoice: {invoice} already has an open dispute"
DISPUTE_NOT_OPEN = "dispute: already resolved"
RESOLUTION_REQUIRED = "resolution: say how the dispute was resolved"
PLAN_INSTALLMENT_INVALID = "installment: must be positive (got {value})"
PLAN_INTERVAL_INVALID = "interval_days: must be between 1 and 366 (got {value})"
PLAN_ALREADY_ACTIVE = "invoice: {invoice} already has an active payment plan"
HOLD_NOT_ACTIVE = "matter: {matter} has no collections hold to lift"
HOLD_LIFT_REASON_REQUIRED = "reason: a partner lifting a hold must say why"
RUN_DATE_INVALID = "date: must be YYYY-MM-DD (got {value!r})"
AGING_DATE_INVALID = "as_of: must be YYYY-MM-DD (got {value!r})"
AGING_GROUP_INVALID = "group: must be one of {choices} (got {value!r})"
