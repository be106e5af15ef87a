"""Writes of the collections app (see the submodules)."""

from caseledger.collections.services.aftercare import at_risk_refresh
from caseledger.collections.services.aging_facts import aging_facts_rebuild
from caseledger.collections.services.delivery import reminder_retry, reminders_deliver_pending
from caseledger.collections.services.plan import Step
from caseledger.collections.services.policies import (
    DEFAULT_STAGES,
    StageInput,
    policy_default_ensure,
    policy_save,
    stages_validate,
)
from caseledger.collections.services.records import (
    activity_record,
    collection_hold_lift,
    dispute_open,
    dispute_resolve,
    matter_hold_lift_by_partner,
    payment_plan_cancel,
    payment_plan_create,
)
from caseledger.collections.services.run import RunResult, collections_run

__all__ = [
    "DEFAULT_STAGES",
    "RunResult",
    "StageInput",
    "Step",
    "activity_record",
    "aging_facts_rebuild",
    "at_risk_refresh",
    "collection_hold_lift",
    "collections_run",
    "dispute_open",
    "dispute_resolve",
    "matter_hold_lift_by_partner",
    "payment_plan_cancel",
    "payment_plan_create",
    "policy_default_ensure",
    "policy_save",
    "reminder_retry",
    "reminders_deliver_pending",
    "stages_validate",
]
