"""Demo clients: 16 employers (corporate cohort) with their employee beneficiaries and 24 private
individuals, some with family beneficiaries. Deterministic (ctx.rng) and idempotent (keyed by
client name)."""

from __future__ import annotations

from datetime import date, timedelta

from caseledger.clients import services
from caseledger.clients.choices import ClientKind, ClientType, ContactRole, Relationship
from caseledger.clients.models import Client
from caseledger.core.demo_context import DemoContext

CLIENTS_SINCE_DAYS = 730  # matters.demo opens matters up to 720 days back

# name, city, region, postal code, payment terms, LEDES, auto-apply trust
COMPANIES = [
    ("Northwind Analytics Inc.", "San Francisco", "CA", "94105", 30, True, False),
    ("Bayside Robotics LLC", "Oakland", "CA", "94607", 30, False, False),
    ("Cascadia Genomics Corp.", "Seattle", "WA", "98109", 45, True, True),
    ("Lone Star Semiconductor Inc.", "Austin", "TX", "78701", 30, True, False),
    ("Harborview Medical Group", "Boston", "MA", "02114", 30, False, True),
    ("Great Lakes Logistics Co.", "Chicago", "IL", "60606", 15, False, False),
    ("Meridian Fintech Labs Inc.", "New York", "NY", "10004", 30, True, False),
    ("Sunbelt Solar Systems LLC", "Phoenix", "AZ", "85004", 30, False, False),
    ("Blue Ridge Software Partners", "Raleigh", "NC", "27601", 30, False, True),
    ("Keystone Structural Engineering", "Pittsburgh", "PA", "15222", 45, False, False),
    ("Pacific Rim Hospitality Group", "Honolulu", "HI", "96813", 30, False, False),
    ("Redwood Data Systems Inc.", "San Jose", "CA", "95113", 30, True, False),
    ("Gulf Coast Petrochemical LLC", "Houston", "TX", "77002", 60, True, False),
    ("Twin Cities Biomedical Inc.", "Minneapolis", "MN", "55401", 30, False, True),
    ("Front Range Aerospace Corp.", "Denver", "CO", "80202", 30, True, False),
    ("Magnolia University Hospital", "Atlanta", "GA", "30303", 30, False, False),
]

# Employer attributes the government fees depend on (employee band, 501(c)(3), ACWIA
# exemption); companies not listed have 26 or more full-time employees.
EMPLOYERS = {
    "Bayside Robotics LLC": ("UP_TO_25", False, ""),
    "Keystone Structural Engineering": ("UP_TO_25", False, ""),
    "Blue Ridge Software Partners": ("UP_TO_25", False, ""),
    "Harborview Medical Group": ("OVER_25", True, ""),
    "Magnolia University Hospital": ("OVER_25", True, "HIGHER_EDUCATION"),
}

EMPLOYEES = [
    ("Rahul Mehta", "IN"), ("Priya Natarajan", "IN"), ("Wei Zhang", "CN"), ("Li Na Chen", "CN"),
    ("Arjun Reddy", "IN"), ("Ananya Iyer", "IN"), ("Minh Nguyen", "VN"), ("Joon-ho Park", "KR"),
    ("Oluwaseun Adeyemi", "NG"), ("Camila Rojas", "CO"), ("Mateo Fernández", "AR"),
    ("Sofía Herrera", "MX"), ("Dmitri Volkov", "RU"), ("Yuki Tanaka", "JP"),
    ("Fatima Al-Sayed", "EG"), ("Hassan Rahimi", "PK"), ("Aylin Demir", "TR"),
    ("Karthik Subramanian", "IN"), ("Deepika Rao", "IN"), ("Chen Yu", "TW"),
    ("Gabriel Santos", "BR"), ("Ana Beatriz Costa", "BR"), ("Tomasz Kowalski", "PL"),
    ("Nikhil Sharma", "IN"), ("Meera Pillai", "IN"), ("Jin Woo Kim", "KR"),
    ("Thandiwe Nkosi", "ZA"), ("Bogdan Ionescu", "RO"), ("Lucas Moreau", "FR"),
    ("Sanjay Gupta", "IN"), ("Xiaoling Wu", "CN"), ("Emeka Okonkwo", "NG"),
    ("Valentina Greco", "IT"), ("Rohan Desai", "IN"), ("Hyun-woo Lee", "KR"),
    ("Aditi Kulkarni", "IN"), ("Pedro Alvarado", "GT"), ("Nadia Haddad", "LB"),
    ("Farhan Chowdhury", "BD"), ("Isabela Moura", "BR"), ("Vikram Joshi", "IN"),
    ("Mei Ling Tan", "SG"), ("Kwame Mensah", "GH"), ("Laila Ahmadi", "AF"),
    ("Siddharth Menon", "IN"), ("Yerlan Abenov", "KZ"), ("Shreya Banerjee", "IN"),
    ("Andrés Gutiérrez", "VE"),
]  # fmt: skip

# name, city, state, citizenship, language, family beneficiary (name, relationship, country)
PEOPLE = [
    ("María Elena Torres", "Los Angeles", "CA", "MX", "es", ("Jorge Torres", "SPOUSE", "MX")),
    ("Nguyen Van Thanh", "San Jose", "CA", "VN", "vi", None),
    ("Carlos Mendoza", "Miami", "FL", "VE", "es", None),
    ("Amara Okafor", "Houston", "TX", "NG", "en", ("Chidi Okafor", "PARENT", "NG")),
    ("Elena Petrova", "Brooklyn", "NY", "RU", "ru", None),
    ("Hamid Karimi", "Fairfax", "VA", "AF", "en", None),
    ("Lucía Gómez", "Phoenix", "AZ", "GT", "es", None),
    ("David Cohen", "Chicago", "IL", "US", "en", ("Noa Levi", "FIANCE", "IL")),
    ("Ji-yeon Choi", "Fort Lee", "NJ", "KR", "ko", None),
    ("Roberto Silva", "Newark", "NJ", "BR", "pt", ("Ana Silva", "SPOUSE", "BR")),
    ("Fatoumata Diallo", "Bronx", "NY", "GN", "fr", None),
    ("Ahmed Hassan", "Dearborn", "MI", "IQ", "ar", None),
    ("Michael O'Brien", "Boston", "MA", "US", "en", ("Siobhan Murphy", "FIANCE", "IE")),
    ("Wen Li", "Flushing", "NY", "CN", "zh", None),
    ("Jean-Baptiste Pierre", "Miami", "FL", "HT", "fr", None),
    ("Sarah Thompson", "Denver", "CO", "US", "en", ("Tomás Ruiz", "SPOUSE", "CO")),
    ("Oksana Shevchenko", "Sacramento", "CA", "UA", "ru", None),
    ("José Ramírez", "El Paso", "TX", "MX", "es", ("Rosa Ramírez", "PARENT", "MX")),
    ("Aisha Bello", "Atlanta", "GA", "NG", "en", None),
    ("Tenzin Dorje", "Queens", "NY", "NP", "en", None),
    ("Kevin Walsh", "Seattle", "WA", "US", "en", ("Anh Tran", "SPOUSE", "VN")),
    ("Marisol Vega", "San Antonio", "TX", "SV", "es", None),
    ("Rajesh Kumar", "Edison", "NJ", "IN", "hi", ("Sunita Kumar", "PARENT", "IN")),
    ("Emily Carter", "Portland", "OR", "US", "en", ("Luca Romano", "FIANCE", "IT")),
]

HR_FIRST = ["Dana", "Chris", "Jordan", "Morgan", "Taylor"]
HR_LAST = ["Lee", "Patel", "Garcia", "Brooks", "Nguyen"]
STREETS = ["Market St", "Main St", "Oak Ave", "Pine St", "Maple Dr", "Cedar Ln", "Lakeview Blvd"]


def _email(name: str) -> str:
    parts = name.lower().replace("'", "").split()
    return f"{parts[0]}.{parts[-1]}@mail.example"


def _a_number(ctx: DemoContext) -> str:
    return f"A{ctx.rng.randint(200_000_000, 249_999_999)}"


def _dob(ctx: DemoContext, low: int, high: int) -> date:
    return ctx.today - timedelta(days=ctx.rng.randint(low * 365, high * 365))


def seed(ctx: DemoContext) -> None:
    if Client.objects.filter(name=COMPANIES[0][0]).exists():
        return
    partners = [ctx.users["partner"], ctx.users["partner2"]]
    actor = ctx.users["paralegal"]
    # The demo matters were opened up to two years ago: the clients are on file from before.
    since = ctx.now - timedelta(days=CLIENTS_SINCE_DAYS)
    rng = ctx.rng
    employees = iter(EMPLOYEES)
    for index, (name, city, region, postal, terms, ledes, auto) in enumerate(COMPANIES):
        domain = name.split()[0].lower().replace(".", "") + ".example"
        client = services.client_create(
            actor=actor,
            now=since,
            name=name,
            kind=ClientKind.COMPANY,
            client_type=ClientType.CORPORATE,
            email=f"immigration@{domain}",
            phone=f"+1 555 01{index:02d}",
            responsible_partner=partners[index % 2],
            address_line1=f"{rng.randint(100, 2999)} {rng.choice(STREETS)}",
            city=city,
            region=region,
            postal_code=postal,
            country="US",
            payment_terms_days=terms,
            ledes_required=ledes,
            auto_apply_trust=auto,
            employee_band=EMPLOYERS.get(name, ("OVER_25", False, ""))[0],
            nonprofit=EMPLOYERS.get(name, ("OVER_25", False, ""))[1],
            acwia_exemption=EMPLOYERS.get(name, ("OVER_25", False, ""))[2],
        )
        services.contact_add(
            client=client, actor=actor, now=since, name="Accounts Payable",
            role=ContactRole.BILLING, email=f"ap@{domain}",
        )  # fmt: skip
        hr_name = f"{rng.choice(HR_FIRST)} {rng.choice(HR_LAST)}"
        services.contact_add(
            client=client, actor=actor, now=since, name=hr_name, role=ContactRole.HR,
            email=f"hr@{domain}",
        )  # fmt: skip
        if index == 0 and "client" in ctx.users:
            client.portal_users.add(ctx.users["client"])
        for _ in range(3):
            person, country = next(employees)
            services.beneficiary_create(
                client=client,
                actor=actor,
                now=since,
                name=person,
                relationship=Relationship.EMPLOYEE,
                email=f"{person.split()[0].lower()}@{domain}",
                a_number=_a_number(ctx) if rng.random() < 0.4 else "",
                date_of_birth=_dob(ctx, 24, 45),
                passport_number=f"{country[0]}{rng.randint(1_000_000, 9_999_999)}",
                passport_country=country,
                country_of_citizenship=country,
            )
    for index, (name, city, region, citizenship, language, family) in enumerate(PEOPLE):
        is_citizen = citizenship == "US"
        client = services.client_create(
            actor=actor,
            now=since,
            name=name,
            kind=ClientKind.PERSON,
            client_type=ClientType.PRIVATE,
            email=_email(name),
            phone=f"+1 555 02{index:02d}",
            responsible_partner=partners[(index + 1) % 2],
            address_line1=f"{rng.randint(10, 999)} {rng.choice(STREETS)}",
            city=city,
            region=region,
            postal_code=f"{rng.randint(10000, 99999)}",
            country="US",
            preferred_language=language,
            payment_terms_days=rng.choice([14, 30]),
            auto_apply_trust=rng.random() < 0.5,
            a_number="" if is_citizen else _a_number(ctx),
            date_of_birth=_dob(ctx, 22, 60),
            country_of_citizenship=citizenship,
            ssn_itin=f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
            if rng.random() < 0.5
            else "",
        )
        if family:
            relative, relationship, country = family
            services.beneficiary_create(
                client=client,
                actor=actor,
                now=since,
                name=relative,
                relationship=relationship,
                date_of_birth=_dob(ctx, 20, 70),
                passport_number=f"{country[0]}{rng.randint(1_000_000, 9_999_999)}",
                passport_country=country,
                country_of_citizenship=country,
            )
