"""Government fees: the shipped USCIS fee schedule (every row citing the rule that sets it), the
fee in force on a filing date for an employer, and the payer rules attached to fee codes.

Which row applies (``government_fee_resolve``):
- the rule in force is the latest ``effective_date`` on or before the FILING date (the date the
  filing is sent, ``Invoice.filing_date``), not the drafting date; a new rule replaces every
  variant of the old one;
- among that rule's rows, the employer's variant first (nonprofit, then small employer of 25 or
  fewer full-time employees, then standard), and the filing method (online or paper) before
  "either";
- the ACWIA fee is not due from employers exempt under INA 214(c)(9)(A) (higher education,
  nonprofit or governmental research), nor on an extension of stay by an employer that already
  obtained one for the beneficiary (``Matter.employer_prior_extensions``; INA
  214(c)(9)(A)(ii), 8 CFR 214.2(h)(19)(v)): the resolution then carries no fee and says why;
- the H-1B proclamation payment (Proclamation 10973) is added to a filing invoice when the
  matter's beneficiary is outside the U.S. without a valid H-1B visa or notification is
  requested (``Matter.beneficiary_location``; ``auto_fee_codes``);
- a row with a stated expiry (``GovernmentFee.expires_on``: the proclamation "expire[s] 12
  months after the effective date ... absent extension", so Sept. 21, 2026) is not in force on
  or after that date: no fee, and the resolution says why. An extension is a later row a partner
  adds to the fee schedule citing the extending instrument (``government_fee_add``, audited);
  until one is recorded, drafts near or after the expiry carry a notice (``expiry_notice``).

The schedule (``FEE_SCHEDULE``) is loaded by ``fee_schedule_load`` (demo and new firms);
amounts are cents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from caseledger.billing.choices import (
    EDITABLE_STATUSES,
    FeeCategory,
    FeePath,
    FeeVariant,
    FilingMethod,
    LineKind,
)
from caseledger.billing.models import FeePayerRule, GovernmentFee
from caseledger.core import clock

# -- sources ------------------------------------------------------------------------------------

RULE_2024 = (
    "USCIS Fee Schedule final rule, 89 FR 6194 (Jan. 31, 2024), 8 CFR 106.2; effective Apr. 1, 2024"
)
RULE_2016 = (
    "USCIS Fee Schedule final rule, 81 FR 73292 (Oct. 24, 2016), 8 CFR 103.7; "
    "effective Dec. 23, 2016"
)
APF_2024 = "Asylum Program Fee, 8 CFR 106.2(c)(13); 89 FR 6194 (effective Apr. 1, 2024)"
PREMIUM_2020 = (
    "Emergency Stopgap USCIS Stabilization Act, Pub. L. 116-159 sec. 4102; 8 CFR 106.4; "
    "effective Oct. 19, 2020"
)
PREMIUM_2024 = (
    "Premium processing inflation adjustment, 88 FR 89539 (Dec. 28, 2023), 8 CFR 106.4; "
    "effective Feb. 26, 2024"
)
PREMIUM_2026 = (
    "Adjustment to Premium Processing Fees, 91 FR 1059 (Jan. 12, 2026), 8 CFR 106.4; "
    "effective Mar. 1, 2026 (postmarked on or after)"
)
ACWIA_CITE = (
    "ACWIA fee: INA 214(c)(9) as amended by the H-1B Visa Reform Act of 2004 "
    "(Pub. L. 108-447); 8 CFR 214.2(h)(19); $750 for 25 or fewer FTE, $1,500 for 26 or more"
)
FRAUD_CITE = (
    "Fraud prevention and detection fee: INA 214(c)(12) (Pub. L. 108-447, from Mar. 8, 2005); "
    "8 CFR 214.2(h)(19); new H-1B and L petitions and changes of employer"
)
PROCLAMATION_CITE = (
    "Presidential Proclamation 10973 'Restriction on Entry of Certain Nonimmigrant Workers' "
    "(Sept. 19, 2025), 90 FR 46027, sec. 1, effective 12:01 a.m. EDT Sept. 21, 2025; USCIS "
    "guidance of Oct. 20, 2025: new H-1B petitions for beneficiaries outside the U.S. without a "
    "valid H-1B visa, and petitions requesting consular or port-of-entry notification or "
    "pre-flight inspection; not changes of status, amendments or extensions granted in the "
    "U.S.; national-interest exceptions by the Secretary of DHS; paid on pay.gov before filing"
)
# The proclamation's own term (checked against its text as summarised by practitioners citing its
# sections; the extension recommendation is due within 30 days after the next H-1B lottery).
PROCLAMATION_EXPIRES = date(2026, 9, 21)
PROCLAMATION_EXPIRY_CITE = (
    "Proclamation 10973 sec. 1(a)-(b): the restriction on entry, and on decisions on petitions "
    "for beneficiaries outside the U.S. not accompanied by the $100,000 payment, run for 12 "
    "months after the effective date (12:01 a.m. EDT Sept. 21, 2025) and expire absent "
    "extension; the Secretaries of State, Labor and Homeland Security and the Attorney General "
    "recommend on extension or renewal within 30 days after the next H-1B lottery"
)
ACWIA_SECOND_EXTENSION_CITE = (
    "INA 214(c)(9)(A)(ii): the fee is due on a petition to extend the stay of an H-1B worker "
    "'unless the employer previously has obtained an extension for such alien'; 8 CFR "
    "214.2(h)(19)(v): not required for the second or subsequent extension of stay filed by the "
    "employer"
)
IMMIGRANT_FEE_CITE_2024 = "USCIS Immigrant Fee, 8 CFR 106.2(a)(1); 89 FR 6194 (from Apr. 1, 2024)"
IMMIGRANT_FEE_CITE_2016 = "USCIS Immigrant Fee, 81 FR 73292 (from Dec. 23, 2016)"
BIOMETRICS_2016 = "Biometric services fee, 81 FR 73292 (from Dec. 23, 2016)"
BIOMETRICS_2024 = (
    "89 FR 6194: the biometric services fee is included in the form fee from Apr. 1, 2024"
)

# Payer rules attached to fee codes (whatever category a line is given).
EMPLOYER_ONLY = "20 CFR 655.731(c)(10)(ii): the employer may not receive reimbursement of"
FEE_PAYER_RULES: list[tuple[str, str, list[str]]] = [
    (
        "ACWIA",
        f"{EMPLOYER_ONLY} the ACWIA fee from the H-1B worker (INA 212(n)(2)(C)(vi)(II))",
        ["ACWIA", "training fee"],
    ),
    (
        "FRAUD",
        "INA 214(c)(12)(A): the fraud prevention and detection fee is imposed on the employer; "
        "20 CFR 655.731(c)(9) and (c)(10)(ii)",
        ["fraud prevention", "fraud detection", "fraud fee"],
    ),
    (
        "H1B_PROCLAMATION",
        "Proclamation of Sept. 19, 2025, sec. 1: the payment accompanies the employer's "
        "petition; 20 CFR 655.731(c)(9) (employer's business expense)",
        ["H-1B proclamation", "proclamation payment"],
    ),
]

# -- the schedule -------------------------------------------------------------------------------

H1B = ("h1b_cap", "h1b_extension", "h1b_transfer")
H1B_NEW = ("h1b_cap", "h1b_transfer")  # fraud fee: not for extensions with the same employer
I129_ALL = (*H1B, "l1", "o1")
REQ = FeeCategory.REQUIRED_GOVERNMENT_FEE
OPT = FeeCategory.OPTIONAL_GOVERNMENT_FEE
STD, SMALL, NONPROFIT = FeeVariant.STANDARD, FeeVariant.SMALL_EMPLOYER, FeeVariant.NONPROFIT
ANY, PAPER, ONLINE = FilingMethod.ANY, FilingMethod.PAPER, FilingMethod.ONLINE
D2016, D2024 = date(2016, 12, 23), date(2024, 4, 1)


@dataclass(frozen=True)
class FeeRow:
    case_types: tuple[str, ...]
    code: str
    name: str
    amount_cents: int
    effective_date: date
    citation: str
    variant: str = STD
    filing_method: str = ANY
    category: str = REQ
    expense_code: str = "E123"
    expires_on: date | None = None
    expiry_citation: str = ""


def _form(
    case_types: tuple[str, ...],
    code: str,
    name: str,
    old: int,
    new: int,
    *,
    online: int | None = None,
    small: int | None = None,
) -> list[FeeRow]:
    """A form's 2016 and 2024 rows (dollars), with the 2024 online and small/nonprofit rows."""
    rows = [
        FeeRow(case_types, code, name, old * 100, D2016, RULE_2016),
        FeeRow(case_types, code, name, new * 100, D2024, RULE_2024, filing_method=PAPER)
        if online is not None
        else FeeRow(case_types, code, name, new * 100, D2024, RULE_2024),
    ]
    if online is not None:
        rows.append(
            FeeRow(
                case_types,
                code,
                f"{name} (online)",
                online * 100,
                D2024,
                RULE_2024,
                "STANDARD",
                ONLINE,
            )
        )
    if small is not None:
        for variant in (SMALL, NONPROFIT):
            rows.append(FeeRow(case_types, code, name, small * 100, D2024, RULE_2024, variant))
    return rows


def _premium(case_types: tuple[str, ...]) -> list[FeeRow]:
    name = "Premium processing (I-907)"
    return [
        FeeRow(
            case_types, "PREMIUM", name, 250_000, date(2020, 10, 19), PREMIUM_2020, category=OPT
        ),
        FeeRow(case_types, "PREMIUM", name, 280_500, date(2024, 2, 26), PREMIUM_2024, category=OPT),
        FeeRow(case_types, "PREMIUM", name, 296_500, date(2026, 3, 1), PREMIUM_2026, category=OPT),
    ]


def _apf(case_types: tuple[str, ...]) -> list[FeeRow]:
    name = "Asylum Program Fee"
    return [
        FeeRow(case_types, "ASYLUM_PROGRAM", name, 60_000, D2024, APF_2024),
        FeeRow(case_types, "ASYLUM_PROGRAM", name, 30_000, D2024, APF_2024, SMALL),
        FeeRow(case_types, "ASYLUM_PROGRAM", name, 0, D2024, APF_2024, NONPROFIT),
    ]


def _biometrics(case_types: tuple[str, ...]) -> list[FeeRow]:
    name = "Biometric services fee"
    return [
        FeeRow(case_types, "BIOMETRICS", name, 8_500, D2016, BIOMETRICS_2016),
        FeeRow(case_types, "BIOMETRICS", name, 0, D2024, BIOMETRICS_2024),
    ]


FEE_SCHEDULE: list[FeeRow] = [
    *_form(H1B, "I129", "USCIS I-129 filing fee (H-1B)", 460, 780, small=460),
    *_form(("l1",), "I129", "USCIS I-129 filing fee (L-1)", 460, 1_385, small=695),
    *_form(("o1",), "I129", "USCIS I-129 filing fee (O-1)", 460, 1_055, small=530),
    FeeRow(H1B, "ACWIA", "ACWIA training fee", 150_000, date(2004, 12, 8), ACWIA_CITE),
    FeeRow(H1B, "ACWIA", "ACWIA training fee", 75_000, date(2004, 12, 8), ACWIA_CITE, SMALL),
    FeeRow(
        (*H1B_NEW, "l1"),
        "FRAUD",
        "Fraud prevention and detection fee",
        50_000,
        date(2005, 3, 8),
        FRAUD_CITE,
    ),
    FeeRow(
        ("h1b_extension",),
        "FRAUD",
        "Fraud prevention and detection fee (not due on an extension with the same employer)",
        0,
        date(2005, 3, 8),
        FRAUD_CITE,
    ),
    FeeRow(
        H1B_NEW,
        "H1B_PROCLAMATION",
        "H-1B proclamation payment (beneficiary outside the U.S.)",
        10_000_000,
        date(2025, 9, 21),
        PROCLAMATION_CITE,
        expires_on=PROCLAMATION_EXPIRES,
        expiry_citation=PROCLAMATION_EXPIRY_CITE,
    ),
    *_apf((*I129_ALL, "i140")),
    *_premium((*I129_ALL, "i140")),
    *_form(("i140",), "I140", "USCIS I-140 filing fee", 700, 715),
    *_form(("i130",), "I130", "USCIS I-130 filing fee", 535, 675, online=625),
    *_form(("i485",), "I485", "USCIS I-485 filing fee", 1_140, 1_440),
    *_biometrics(("i485", "n400", "i539", "i751", "i90")),
    # Companions filed with an I-485: bundled (no fee) under the 2016 rule; from Apr. 1, 2024
    # the I-765 is $260 with a pending I-485 and the I-131 is $630.
    FeeRow(("i485",), "I765", "USCIS I-765 filing fee (with I-485)", 0, D2016, RULE_2016),
    FeeRow(("i485",), "I765", "USCIS I-765 filing fee (with I-485)", 26_000, D2024, RULE_2024),
    FeeRow(("i485",), "I131", "USCIS I-131 filing fee (with I-485)", 0, D2016, RULE_2016),
    FeeRow(("i485",), "I131", "USCIS I-131 filing fee (with I-485)", 63_000, D2024, RULE_2024),
    *_form(("i765",), "I765", "USCIS I-765 filing fee", 410, 520, online=470),
    *_form(("i131",), "I131", "USCIS I-131 filing fee", 575, 630),
    *_form(("i539",), "I539", "USCIS I-539 filing fee", 370, 470, online=420),
    *_form(("k1",), "I129F", "USCIS I-129F filing fee", 535, 675),
    *_form(("n400",), "N400", "USCIS N-400 filing fee", 640, 760, online=710),
    *_form(("i751",), "I751", "USCIS I-751 filing fee", 595, 750),
    *_form(("i90",), "I90", "USCIS I-90 filing fee", 455, 465, online=415),
    FeeRow(
        ("consular_processing",),
        "IMMIGRANT_FEE",
        "USCIS immigrant fee",
        22_000,
        D2016,
        IMMIGRANT_FEE_CITE_2016,
    ),
    FeeRow(
        ("consular_processing",),
        "IMMIGRANT_FEE",
        "USCIS immigrant fee",
        23_500,
        D2024,
        IMMIGRANT_FEE_CITE_2024,
    ),
]


def fee_schedule_load(*, now: datetime) -> int:
    """Write the shipped schedule and the fee-code payer rules (idempotent: keyed by case type,
    code, date, variant and method). Case types that do not exist are skipped. Returns the
    number of fee rows written."""
    from caseledger.matters.models import CaseType

    case_types = {ct.code: ct for ct in CaseType.objects.all()}
    count = 0
    for row in FEE_SCHEDULE:
        for ct_code in row.case_types:
            case_type = case_types.get(ct_code)
            if case_type is None:
                continue
            GovernmentFee.objects.update_or_create(
                case_type=case_type,
                code=row.code,
                effective_date=row.effective_date,
                variant=row.variant,
                filing_method=row.filing_method,
                defaults={
                    "name": row.name,
                    "amount_cents": row.amount_cents,
                    "category": row.category,
                    "expense_code": row.expense_code,
                    "citation": row.citation,
                    "expires_on": row.expires_on,
                    "expiry_citation": row.expiry_citation,
                },
            )
            count += 1
    for code, citation, keywords in FEE_PAYER_RULES:
        FeePayerRule.objects.update_or_create(
            fee_code=code,
            defaults={"beneficiary_may_pay": False, "citation": citation, "keywords": keywords},
        )
    return count


# -- resolution ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeResolution:
    fee: GovernmentFee | None  # None: no fee due (exempt) or no row in force
    reason: str = ""  # why there is no fee


ACWIA_EXEMPT = "ACWIA fee not due: {client} is exempt ({exemption}; INA 214(c)(9)(A))"
ACWIA_SECOND_EXTENSION = (
    "ACWIA fee not due: {client} already obtained {count} extension{s} of stay for this "
    "beneficiary; this is a second or later extension by the same employer "
    f"({ACWIA_SECOND_EXTENSION_CITE})"
)
# Case types that extend the stay of an H-1B worker with the same employer.
EXTENSION_CASE_TYPES = frozenset({"h1b_extension"})
# Where the beneficiary is at filing when Proclamation 10973 requires its payment.
PROCLAMATION_LOCATIONS = frozenset({"OUTSIDE_US", "NOTIFICATION"})
PROCLAMATION_CODE = "H1B_PROCLAMATION"


def auto_fee_path(code: str, path: str | None) -> str | None:
    """How an automatically added fee is paid: the proclamation payment is made by the employer
    on pay.gov before the petition is filed (USCIS guidance of Oct. 20, 2025), so it is shown for
    information (CLIENT_DIRECT), never advanced by the firm or taken from trust unless someone
    changes that line's path on the draft; other fees follow the draft's path."""
    return FeePath.CLIENT_DIRECT if code == PROCLAMATION_CODE else path


def auto_fee_codes(matter: Any, codes: list[str]) -> list[str]:
    """The fee codes a filing invoice of ``matter`` needs beyond its template's ``codes``: the
    H-1B proclamation payment when the beneficiary is outside the U.S. without a valid H-1B visa
    or consular / port-of-entry notification is requested (``Matter.beneficiary_location``).
    Whether the case type has such a fee on the filing date is the schedule's to say."""
    location = getattr(matter, "beneficiary_location", "")
    if location in PROCLAMATION_LOCATIONS and PROCLAMATION_CODE not in codes:
        return [PROCLAMATION_CODE]
    return []


def employer_variants(client: Any) -> list[str]:
    """The fee variants that fit ``client``, best first; STANDARD always last."""
    variants: list[str] = []
    if getattr(client, "nonprofit", False):
        variants.append(FeeVariant.NONPROFIT)
    if getattr(client, "employee_band", "") == "UP_TO_25":
        variants.append(FeeVariant.SMALL_EMPLOYER)
    variants.append(FeeVariant.STANDARD)
    return variants


def government_fee_resolve(
    *,
    case_type_id: int,
    code: str,
    on: date,
    client: Any = None,
    filing_method: str = PAPER,
    matter: Any = None,
) -> FeeResolution:
    """The row of (case type, code) in force on ``on`` that fits the employer and the filing
    method (see the module docstring). With ``matter``, an extension by an employer that
    already obtained one for the beneficiary owes no ACWIA fee."""
    if code == "ACWIA" and client is not None and client.acwia_exemption:
        return FeeResolution(
            None,
            ACWIA_EXEMPT.format(
                client=client, exemption=client.get_acwia_exemption_display().lower()
            ),
        )
    if (
        code == "ACWIA"
        and matter is not None
        and matter.employer_prior_extensions >= 1
        and matter.case_type.code in EXTENSION_CASE_TYPES
    ):
        count = matter.employer_prior_extensions
        return FeeResolution(
            None,
            ACWIA_SECOND_EXTENSION.format(
                client=matter.client, count=count, s="" if count == 1 else "s"
            ),
        )
    rows = GovernmentFee.objects.filter(
        case_type_id=case_type_id, code=code, effective_date__lte=on
    )
    latest = rows.order_by("-effective_date").values_list("effective_date", flat=True).first()
    if latest is None:
        return FeeResolution(None, "")
    candidates = list(rows.filter(effective_date=latest).order_by("id"))
    variants = employer_variants(client)
    methods = [filing_method, FilingMethod.ANY]
    if filing_method == FilingMethod.ANY:
        methods = [FilingMethod.PAPER, FilingMethod.ANY]

    def rank(fee: GovernmentFee) -> tuple[int, int]:
        v = variants.index(fee.variant) if fee.variant in variants else 99
        m = methods.index(fee.filing_method) if fee.filing_method in methods else 99
        return (v, m)

    fitting = [
        fee for fee in candidates if fee.variant in variants and fee.filing_method in methods
    ]
    if not fitting:
        fitting = [fee for fee in candidates if fee.variant == FeeVariant.STANDARD] or candidates
    fee = min(fitting, key=lambda fee: (*rank(fee), fee.pk))
    if fee.expires_on is not None and on >= fee.expires_on:
        return FeeResolution(
            None,
            FEE_LAPSED.format(
                name=fee.name,
                label=fee_label(fee),
                expiry=us_date(fee.expires_on),
                on=us_date(on),
                citation=fee.expiry_citation or fee.citation,
            ),
        )
    return FeeResolution(fee)


# -- stated expiry -------------------------------------------------------------------------------

FEE_LABELS = {PROCLAMATION_CODE: "Proclamation 10973"}
FEE_LAPSED = (
    "{name}: not added: {label} stated expiry {expiry} and no extension is recorded in the fee "
    "schedule for a filing on {on} ({citation})"
)
EXPIRY_NOTICE = "{label} stated expiry {expiry} — confirm whether it was extended before issuing"
EXPIRY_NOTICE_LAPSED = (
    " (no payment is billed for a filing on or after it until a partner records the extension, "
    "citing its instrument, in the fee schedule)"
)
# How many days before a stated expiry drafts start to carry the notice.
EXPIRY_NOTICE_DAYS = 30
_AP_MONTHS = (
    "Jan.", "Feb.", "March", "April", "May", "June",
    "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.",
)  # fmt: skip


def us_date(day: date) -> str:
    """A date as the Federal Register and practitioners write it: ``Sept. 21, 2026``."""
    return f"{_AP_MONTHS[day.month - 1]} {day.day}, {day.year}"


def fee_label(fee: GovernmentFee) -> str:
    return FEE_LABELS.get(fee.code, fee.name)


def expiry_notice(*, case_type_id: int, code: str, on: date) -> str:
    """The notice a filing draft dated ``on`` carries when the (case type, code) row in force
    (or last in force) has a stated expiry within ``EXPIRY_NOTICE_DAYS`` of ``on`` or before it
    and no later row (an extension) is recorded; "" otherwise."""
    rows = GovernmentFee.objects.filter(case_type_id=case_type_id, code=code)
    fee = rows.filter(effective_date__lte=on).order_by("-effective_date", "id").first()
    if fee is None or fee.expires_on is None:
        return ""
    if (fee.expires_on - on).days > EXPIRY_NOTICE_DAYS:
        return ""
    if rows.filter(effective_date__gte=fee.expires_on).exists():
        return ""  # an extension is recorded: its own row, with its own citation
    notice = EXPIRY_NOTICE.format(label=fee_label(fee), expiry=us_date(fee.expires_on))
    return notice + (EXPIRY_NOTICE_LAPSED if on >= fee.expires_on else "")


def invoice_expiry_notices(invoice: Any) -> list[str]:
    """Notices for a draft not yet issued: each fee it bills, or the matter's facts would add
    (``auto_fee_codes``), whose stated expiry is near or past on the filing date."""
    if invoice.status not in EDITABLE_STATUSES:
        return []
    on = invoice.filing_date or clock.firm_date(invoice.created_at)
    codes = list(
        invoice.lines.filter(kind=LineKind.GOVERNMENT_FEE)
        .exclude(fee_code="")
        .values_list("fee_code", flat=True)
    )
    codes += auto_fee_codes(invoice.matter, codes)
    notices: list[str] = []
    for code in dict.fromkeys(codes):
        notice = expiry_notice(case_type_id=invoice.matter.case_type_id, code=code, on=on)
        if notice and notice not in notices:
            notices.append(notice)
    return notices


# -- payer rules per fee code ------------------------------------------------------------------


def fee_payer_rule_for(
    *, fee_code: str = "", service_id: int | None = None, description: str = ""
) -> FeePayerRule | None:
    """The rule that forbids the beneficiary a line's fee: by its fee code, its service, or, for
    a manual line without a code, by the words of its description ("ACWIA fee")."""
    rules = list(FeePayerRule.objects.filter(beneficiary_may_pay=False).order_by("id"))
    for rule in rules:
        if fee_code and rule.fee_code == fee_code:
            return rule
        if service_id is not None and rule.service_id == service_id:
            return rule
    if description:
        for rule in rules:
            for word in rule.keywords or []:
                if re.search(
                    rf"(?<![A-Za-z0-9]){re.escape(str(word))}(?![A-Za-z0-9])", description, re.I
                ):
                    return rule
    return None
