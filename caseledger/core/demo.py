"""Demo firm: the firm profile and one login per role. Idempotent: keyed by username."""

from __future__ import annotations

from caseledger.core.choices import Role
from caseledger.core.demo_context import DemoContext
from caseledger.core.models import Firm, User

DEMO_PASSWORD = "caseledger-demo"

# (username, first, last, role, initials)
DEMO_USERS = [
    ("admin", "Alex", "Morgan", Role.ADMIN, "AM"),
    ("partner", "Priya", "Raman", Role.PARTNER, "PR"),
    ("partner2", "Daniel", "Okafor", Role.PARTNER, "DO"),
    ("attorney", "Sofia", "Alvarez", Role.ATTORNEY, "SA"),
    ("attorney2", "Marcus", "Chen", Role.ATTORNEY, "MC"),
    ("paralegal", "Lena", "Fischer", Role.PARALEGAL, "LF"),
    ("paralegal2", "Tomas", "Novak", Role.PARALEGAL, "TN"),
    ("billing", "Grace", "Kim", Role.BILLING, "GK"),
    ("operations", "Omar", "Haddad", Role.OPERATIONS, "OH"),
    ("client", "Hannah", "Weiss", Role.CLIENT, "HW"),
]


DEMO_FIRM = {
    "name": "Raman & Okafor Immigration LLP",
    "address": "1200 Market Street, Suite 800\nSan Francisco, CA 94102",
    "email": "billing@ramanokafor.example",
    "phone": "+1 415 555 0142",
    "taxpayer_id": "94-3170425",  # LAW_FIRM_ID of the demo's LEDES e-bills
    # The demo stays easy to try: password alone; the enforcement switch is on the firm
    # settings page.
    "two_factor_enforced": False,
}


def seed(ctx: DemoContext) -> None:
    # The firm profile is filled in once, while the firm still has the name the migration gave
    # it; after that it is the administrator's (a rerun must not undo, say, turning two-factor
    # enforcement on).
    firm, _ = Firm.objects.get_or_create(id=1)
    if firm.name == Firm._meta.get_field("name").get_default():
        Firm.objects.filter(id=1).update(**DEMO_FIRM, updated_at=ctx.now)
    for username, first, last, role, initials in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "role": role,
                "initials": initials,
                "email": f"{username}@ramanokafor.example",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        ctx.users[username] = user
