"""Deterministic synthetic firm: ``python -m bench.generate --matters N [--seed S]`` fills the
database DATABASE_URL names (migrated) using bulk inserts. Benches call ``generate_firm``.

The same (matters, seed) always produces the same names, numbers and assignments.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

FIRST = ["Ana", "Wei", "Priya", "Omar", "Lena", "Kofi", "Mateo", "Yuki", "Sara", "Ivan", "Noor"]
LAST = ["Garcia", "Chen", "Patel", "Haddad", "Novak", "Mensah", "Rossi", "Tanaka", "Kim", "Ali"]
COMPANIES = ["Acme Robotics", "Bluefin Labs", "Cedar Health", "Delta Foods", "Evergreen Soft"]
CASES = ["H-1B petition", "PERM labor certification", "I-140", "I-485", "N-400", "K-1 visa"]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class Firm:
    """Ids of what ``generate_firm`` created (lists in creation order)."""

    user_ids: list[int] = field(default_factory=list)
    client_ids: list[int] = field(default_factory=list)
    matter_ids: list[int] = field(default_factory=list)
    matter_client: dict[int, int] = field(default_factory=dict)


def generate_firm(*, matters: int, seed: int = 1, prefix: str = "SYN") -> Firm:
    """Bulk-insert staff, clients (about one per 1.5 matters) and ``matters`` matters."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from caseledger.clients.models import Client
    from caseledger.core.choices import Role
    from caseledger.core.models import User
    from caseledger.matters.models import Matter

    rng = random.Random(seed)
    firm = Firm()
    unusable = make_password(None)
    with transaction.atomic():
        staff = [
            User(
                username=f"{prefix.lower()}-{role.lower()}-{i}",
                role=role,
                password=unusable,
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
            )
            for role, count in ((Role.PARTNER, 2), (Role.ATTORNEY, 4), (Role.PARALEGAL, 4))
            for i in range(count)
        ]
        User.objects.bulk_create(staff, batch_size=500)
        staff = list(User.objects.filter(username__startswith=f"{prefix.lower()}-").order_by("id"))
        firm.user_ids = [u.pk for u in staff]
        partners = [u for u in staff if u.role == Role.PARTNER]
        attorneys = [u for u in staff if u.role == Role.ATTORNEY]
        paralegals = [u for u in staff if u.role == Role.PARALEGAL]

        n_clients = max(1, (matters * 2) // 3)
        clients = []
        for i in range(n_clients):
            company = rng.random() < 0.35
            name = (
                f"{rng.choice(COMPANIES)} {i}"
                if company
                else f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
            )
            clients.append(
                Client(
                    name=f"{prefix} {name}",
                    kind="COMPANY" if company else "PERSON",
                    client_type="CORPORATE" if company else "PRIVATE",
                    email=f"client{i}@{prefix.lower()}.example",
                    responsible_partner=rng.choice(partners),
                    created_at=T0 + timedelta(hours=i),
                )
            )
        created = Client.objects.bulk_create(clients, batch_size=1000)
        firm.client_ids = [c.pk for c in created]
        rows = []
        for i in range(matters):
            client_id = (
                firm.client_ids[i % n_clients] if i < n_clients else rng.choice(firm.client_ids)
            )
            rows.append(
                Matter(
                    number=f"{prefix}-{i:06d}",
                    title=rng.choice(CASES),
                    client_id=client_id,
                    responsible_partner=rng.choice(partners),
                    attorney=rng.choice(attorneys),
                    paralegal=rng.choice(paralegals),
                    opened_date=date(2025, 1, 1) + timedelta(days=rng.randrange(365)),
                )
            )
        made = Matter.objects.bulk_create(rows, batch_size=1000)
        firm.matter_ids = [m.pk for m in made]
        firm.matter_client = {m.pk: m.client_id for m in made}
    return firm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate")
    parser.add_argument("--matters", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prefix", default="SYN")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseledger.settings")
    import django

    django.setup()
    firm = generate_firm(matters=args.matters, seed=args.seed, prefix=args.prefix)
    summary: dict[str, Any] = {
        "users": len(firm.user_ids),
        "clients": len(firm.client_ids),
        "matters": len(firm.matter_ids),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
