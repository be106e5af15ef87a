"""Seed the case types with their stage templates and the firm's default deadline lead times.

The data is frozen here (a migration must not depend on code that changes later). Existing
matters from before case types existed get the consultation type and its first stage."""

from django.db import migrations

PETITION, SELF, OPTIONAL = "PETITION", "SELF", "OPTIONAL"

H1B_STAGES = [
    ("intake", "Intake"),
    ("lca_filed", "LCA filed"),
    ("petition_prepared", "Petition prepared"),
    ("prepare_filing", "Prepare filing"),
    ("filed", "Filed"),
    ("receipt_received", "Receipt received"),
    ("rfe", "RFE"),
    ("decision", "Decision"),
    ("closed", "Closed"),
]
OPTIONAL_STAGES = {"rfe", "audit", "interview_scheduled"}

# code, name, form, employment_based, beneficiary_rule, stages
CASE_TYPES = [
    (
        "consultation",
        "Consultation",
        "",
        False,
        OPTIONAL,
        [
            ("scheduled", "Scheduled"),
            ("consultation_held", "Consultation held"),
            ("advice_sent", "Advice letter sent"),
            ("closed", "Closed"),
        ],
    ),
    ("h1b_cap", "H-1B cap petition", "I-129", True, PETITION, H1B_STAGES),
    ("h1b_extension", "H-1B extension", "I-129", True, PETITION, H1B_STAGES),
    ("h1b_transfer", "H-1B transfer (change of employer)", "I-129", True, PETITION, H1B_STAGES),
    (
        "perm",
        "PERM labor certification",
        "ETA-9089",
        True,
        PETITION,
        [
            ("intake", "Intake"),
            ("prevailing_wage_requested", "Prevailing wage requested"),
            ("prevailing_wage_determined", "Prevailing wage determined"),
            ("recruitment", "Recruitment"),
            ("eta9089_filed", "ETA-9089 filed"),
            ("audit", "Audit"),
            ("certified", "Certified"),
            ("closed", "Closed"),
        ],
    ),
    (
        "i140",
        "I-140 immigrant petition for alien worker",
        "I-140",
        True,
        PETITION,
        [
            ("intake", "Intake"),
            ("petition_prepared", "Petition prepared"),
            ("filed", "Filed"),
            ("receipt_received", "Receipt received"),
            ("rfe", "RFE"),
            ("decision", "Decision"),
            ("closed", "Closed"),
        ],
    ),
    (
        "i130",
        "I-130 family petition",
        "I-130",
        False,
        PETITION,
        [
            ("intake", "Intake"),
            ("documents_collected", "Documents collected"),
            ("filed", "Filed"),
            ("receipt_received", "Receipt received"),
            ("rfe", "RFE"),
            ("decision", "Decision"),
            ("closed", "Closed"),
        ],
    ),
    (
        "i485",
        "I-485 adjustment of status",
        "I-485",
        False,
        OPTIONAL,
        [
            ("intake", "Intake"),
            ("documents_collected", "Documents collected"),
            ("filed", "Filed"),
            ("receipt_received", "Receipt received"),
            ("biometrics", "Biometrics"),
            ("interview_scheduled", "Interview scheduled"),
            ("rfe", "RFE"),
            ("decision", "Decision"),
            ("closed", "Closed"),
        ],
    ),
    (
        "k1",
        "K-1 fiancé(e) visa",
        "I-129F",
        False,
        PETITION,
        [
            ("intake", "Intake"),
            ("petition_filed", "Petition filed"),
            ("receipt_received", "Receipt received"),
            ("petition_approved", "Petition approved"),
            ("nvc_processing", "NVC processing"),
            ("consular_interview", "Consular interview"),
            ("visa_issued", "Visa issued"),
            ("closed", "Closed"),
        ],
    ),
    (
        "n400",
        "N-400 naturalization",
        "N-400",
        False,
        SELF,
        [
            ("intake", "Intake"),
            ("filed", "Filed"),
            ("receipt_received", "Receipt received"),
            ("biometrics", "Biometrics"),
            ("interview", "Interview"),
            ("oath_ceremony", "Oath ceremony"),
            ("closed", "Closed"),
        ],
    ),
    (
        "asylum_i589",
        "Asylum (I-589)",
        "I-589",
        False,
        SELF,
        [
            ("intake", "Intake"),
            ("declaration_prepared", "Declaration prepared"),
            ("filed", "Filed"),
            ("receipt_received", "Receipt received"),
            ("biometrics", "Biometrics"),
            ("interview", "Interview"),
            ("decision", "Decision"),
            ("closed", "Closed"),
        ],
    ),
    (
        "removal_defense",
        "Removal defense",
        "EOIR-28",
        False,
        SELF,
        [
            ("intake", "Intake"),
            ("master_calendar_hearing", "Master calendar hearing"),
            ("applications_filed", "Applications for relief filed"),
            ("individual_hearing", "Individual hearing"),
            ("decision", "Decision"),
            ("closed", "Closed"),
        ],
    ),
    (
        "rfe_noid_response",
        "RFE / NOID response",
        "",
        False,
        OPTIONAL,
        [
            ("intake", "Intake"),
            ("evidence_gathered", "Evidence gathered"),
            ("response_prepared", "Response prepared"),
            ("response_filed", "Response filed"),
            ("decision", "Decision"),
            ("closed", "Closed"),
        ],
    ),
    (
        "appeal_motion",
        "Appeal or motion (AAO / BIA)",
        "I-290B / EOIR-26",
        False,
        OPTIONAL,
        [
            ("intake", "Intake"),
            ("brief_prepared", "Brief prepared"),
            ("filed", "Filed"),
            ("decision", "Decision"),
            ("closed", "Closed"),
        ],
    ),
]

# kind, lead days, assign to
DEADLINE_RULES = [
    ("RFE_RESPONSE", 30, "PARALEGAL"),
    ("STATUS_EXPIRY", 180, "ATTORNEY"),
    ("FILING_WINDOW", 30, "PARALEGAL"),
    ("HEARING", 30, "ATTORNEY"),
    ("OTHER", 14, "PARALEGAL"),
]


def seed(apps, schema_editor):
    CaseType = apps.get_model("matters", "CaseType")
    Stage = apps.get_model("matters", "Stage")
    Matter = apps.get_model("matters", "Matter")
    FirmDeadlineRule = apps.get_model("matters", "FirmDeadlineRule")
    for position, (code, name, form, employment, rule, stages) in enumerate(CASE_TYPES, start=1):
        case_type, _ = CaseType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "form": form,
                "employment_based": employment,
                "beneficiary_rule": rule,
                "position": position,
            },
        )
        for index, (stage_code, stage_name) in enumerate(stages, start=1):
            Stage.objects.get_or_create(
                case_type=case_type,
                code=stage_code,
                defaults={
                    "name": stage_name,
                    "position": index,
                    "optional": stage_code in OPTIONAL_STAGES,
                    "closes_matter": stage_code == "closed",
                },
            )
    for kind, lead_days, assign_to in DEADLINE_RULES:
        FirmDeadlineRule.objects.get_or_create(
            kind=kind, defaults={"lead_days": lead_days, "assign_to": assign_to}
        )
    consultation = CaseType.objects.get(code="consultation")
    first = Stage.objects.get(case_type=consultation, position=1)
    Matter.objects.filter(case_type__isnull=True).update(case_type=consultation)
    Matter.objects.filter(current_stage__isnull=True).update(current_stage=first)


class Migration(migrations.Migration):
    dependencies = [("matters", "0002_case_types_stages_deadlines_tasks")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
