"""Anchors of the audit chain outside the database (docs/adr/002-hash-chained-audit-log.md).

Once a day (huey periodic task ``core.tasks.audit_anchor_daily``, or ``manage.py audit_anchor``)
the chain's head is signed: ``{"at", "event_id", "hash", "count", "key_id", "mac"}`` where
``mac`` is an HMAC-SHA256 with the newest audit key over the other fields. The anchor is
appended to ``settings.AUDIT_ANCHOR_PATH`` (one JSON line per anchor), written to the job log,
and, when the firm's ``audit_anchor_email`` is on, mailed to every partner.

``verify_audit`` checks the chain against the last anchor: the anchored event must still exist
with the anchored hash, and exactly ``count`` events must precede it. Someone who can write the
database (even a superuser holding the key, who can recompute every HMAC) therefore cannot drop
or rewrite events older than the last anchor without ``verify_audit`` failing; the copies in
the job log and the partners' mailboxes show if the anchor file itself was edited.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from caseledger.core.audit import GENESIS_HASH, key_for, signing_key
from caseledger.core.models import AuditEvent

log = logging.getLogger("caseledger.jobs")

_SIGNED_FIELDS = ("at", "event_id", "hash", "count", "key_id")


@dataclass(frozen=True)
class AnchorProblem:
    event_id: int
    reason: str


def anchor_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_PATH)


def _mac(key: bytes, anchor: dict[str, Any]) -> str:
    body = json.dumps({k: anchor[k] for k in _SIGNED_FIELDS}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def anchor_make(*, now: datetime) -> dict[str, Any]:
    """The signed head of the chain as it is committed now."""
    last = AuditEvent.objects.order_by("-id").values("id", "hash").first()
    count = AuditEvent.objects.filter(id__lte=last["id"]).count() if last else 0
    key_id, key = signing_key()
    anchor: dict[str, Any] = {
        "at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "event_id": last["id"] if last else 0,
        "hash": last["hash"] if last else GENESIS_HASH,
        "count": count,
        "key_id": key_id,
    }
    anchor["mac"] = _mac(key, anchor)
    return anchor


def anchor_last(path: Path | None = None) -> dict[str, Any] | None:
    """The last anchor written to the anchor file (None: no file or no anchor yet)."""
    path = path or anchor_path()
    if not path.exists():
        return None
    last = None
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                last = line
    return json.loads(last) if last else None


def anchor_check(anchor: dict[str, Any]) -> AnchorProblem | None:
    """Compare the chain with ``anchor``; None when the chain still holds what it anchored."""
    event_id = int(anchor.get("event_id") or 0)
    key = key_for(str(anchor.get("key_id", "")))
    if key is None or not hmac.compare_digest(_mac(key, anchor), str(anchor.get("mac", ""))):
        return AnchorProblem(event_id, "the last anchor's signature does not verify (edited?)")
    count = int(anchor["count"])
    if event_id == 0:
        return None
    row = AuditEvent.objects.filter(id=event_id).values("hash").first()
    if row is None:
        return AnchorProblem(
            event_id, f"anchored event {event_id} is missing (events removed after anchoring)"
        )
    if row["hash"] != anchor["hash"]:
        return AnchorProblem(
            event_id, f"anchored event {event_id} has another hash (chain rewritten)"
        )
    have = AuditEvent.objects.filter(id__lte=event_id).count()
    if have != count:
        return AnchorProblem(
            event_id,
            f"{have} events up to the anchored event {event_id}, the anchor says {count} "
            "(events removed or inserted before it)",
        )
    return None


def anchor_mail(anchor: dict[str, Any], *, now: datetime) -> int:
    """Queue ``anchor`` in the outbox for every active partner with an address, once per
    anchored head (key ``core.audit_anchor:<event id>``). Returns the number of recipients."""
    from caseledger.core import outbox
    from caseledger.core.choices import Role
    from caseledger.core.models import User

    to = sorted(
        User.objects.filter(role=Role.PARTNER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not to:
        return 0
    body = (
        "The signed head of CaseLedger's audit log today. Keep this mail: comparing it with the\n"
        "server's anchor file shows whether the audit log was cut or rewritten.\n\n"
        + json.dumps(anchor, sort_keys=True)
        + "\n"
    )
    outbox.enqueue(
        key=f"core.audit_anchor:{anchor['event_id']}:{anchor['at'][:10]}",
        kind="core.audit_anchor",
        to=to,
        subject=f"Audit log anchor {anchor['at'][:10]}",
        body=body,
        now=now,
    )
    return len(to)


def audit_anchor(*, now: datetime) -> dict[str, Any]:
    """Sign the chain head, append it to the anchor file, log it, mail it when the firm asks."""
    from caseledger.core.models import Firm

    anchor = anchor_make(now=now)
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(anchor, sort_keys=True) + "\n")
    log.info("audit anchor %s", json.dumps(anchor, sort_keys=True))
    firm = Firm.objects.filter(id=1).first()
    if firm is not None and firm.audit_anchor_email:
        anchor_mail(anchor, now=now)
    return anchor


def _firm_has_data() -> bool:
    """Anything that is only ever written with an audit event (looked up by name: core sits
    below the apps that own these tables)."""
    from django.apps import apps

    for label in ("ledger.JournalEntry", "clients.Client", "matters.Matter"):
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        if model.objects.exists():
            return True
    return False


def audit_verify() -> tuple[list[str], str]:
    """Every check of the audit log: the keyed chain, the head row, the last anchor, and an
    empty log in a firm that has data. Returns (problems, a summary for when there are none)."""
    from caseledger.core.audit import verify_chain

    problems: list[str] = []
    broken = verify_chain()
    if broken is not None:
        problems.append(f"audit event {broken.event_id}: {broken.reason}")
    count = AuditEvent.objects.count()
    if count == 0 and _firm_has_data():
        problems.append(
            "audit log: empty, but the firm has clients, matters or journal entries "
            "(the log was emptied)"
        )
    anchor = anchor_last()
    note = "no anchor yet"
    if anchor is not None:
        problem = anchor_check(anchor)
        if problem is not None:
            problems.append(f"audit event {problem.event_id}: {problem.reason}")
        note = f"matches the anchor of {anchor['at']} (event {anchor['event_id']})"
    return problems, f"{count} audit event{'s' if count != 1 else ''}, chain intact, {note}"


def audit_problems() -> list[str]:
    """``audit_verify``'s problems only (for ``manage.py verify``)."""
    return audit_verify()[0]
