"""Matter capabilities, the object scope that limits attorneys and paralegals to their team, and
the menu entries."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

STAFF = {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.PARALEGAL, Role.BILLING, Role.OPERATIONS}
CASE_TEAM = {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.PARALEGAL}

CAPABILITIES = {
    "matters.view": STAFF,
    "matters.manage": CASE_TEAM,  # open and edit matters, receipts, deadlines
    "matters.advance": CASE_TEAM,
    "matters.skip_stage": {Role.ADMIN, Role.PARTNER, Role.ATTORNEY},
    "matters.hold": {Role.ADMIN, Role.PARTNER, Role.BILLING},  # set / lift a hold on new work
    "matters.override_hold": {Role.PARTNER},
    # Set or change the agreed fee / estimate of a matter.
    "matters.budget": {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.BILLING},
    # Upload a document to a matter's file and share it with the client (or withdraw it).
    "matters.documents": CASE_TEAM,
    "matters.case_types": {Role.ADMIN},  # edit case types, stage templates, deadline lead times
    "tasks.view": STAFF,
    "tasks.manage": STAFF,
}


def matter_scope(user: Any, matter: Any) -> bool:
    from caseledger.core.models import Firm

    if user.role == Role.CLIENT:
        return matter.client.portal_users.filter(pk=user.pk).exists()
    if user.role in {Role.ATTORNEY, Role.PARALEGAL}:
        if user.pk in {matter.attorney_id, matter.paralegal_id, matter.responsible_partner_id}:
            return True
        return Firm.objects.filter(id=1, matters_open_to_all=True).exists()
    return False


def task_scope(user: Any, task: Any) -> bool:
    """A task is the user's if it is assigned to them or to their role, or if it belongs to a
    matter they may open."""
    if task.assignee_id == user.pk or (task.assignee_role and task.assignee_role == user.role):
        return task.matter_id is None or matter_scope(user, task.matter)
    if task.matter_id is not None:
        return matter_scope(user, task.matter)
    return task.created_by_id == user.pk


OBJECT_SCOPES = {"matters.matter": matter_scope, "matters.task": task_scope}

NAVIGATION = [
    ("Matters", "matters:list", "matters.view"),
    ("My tasks", "matters:my_tasks", "tasks.view"),
    ("Waiting on me", "core:waiting", "waiting.view"),
    ("Case types", "matters:case_types", "matters.case_types"),
]
