"""Case types firms file every day that the first catalog lacked: L-1 and O-1 petitions, the
I-765 and I-131 companions of an adjustment, H-4 / I-539, removal of conditions (I-751), card
renewal (I-90) and consular processing (where the USCIS immigrant fee is paid).

The data is frozen here (a migration must not depend on code that changes later); existing
rows are left as they are (get_or_create by code)."""

from django.db import migrations

PETITION, SELF = "PETITION", "SELF"

FILING_STAGES = [
    ("intake", "Intake"),
    ("documents_collected", "Documents collected"),
    ("prepare_filing", "Prepare filing"),
    ("filed", "Filed"),
    ("receipt_received", "Receipt received"),
    ("rfe", "RFE"),
    ("decision", "Decision"),
    ("closed", "Closed"),
]
PETITION_STAGES = [
    ("intake", "Intake"),
    ("petition_prepared", "Petition prepared"),
    ("prepare_filing", "Prepare filing"),
    ("filed", "Filed"),
    ("receipt_received", "Receipt received"),
    ("rfe", "RFE"),
    ("decision", "Decision"),
    ("closed", "Closed"),
]
CONSULAR_STAGES = [
    ("intake", "Intake"),
    ("nvc_fees_paid", "NVC fees paid"),
    ("ds260_submitted", "DS-260 submitted"),
    ("interview_scheduled", "Interview scheduled"),
    ("visa_issued", "Visa issued"),
    ("immigrant_fee_paid", "USCIS immigrant fee paid"),
    ("closed", "Closed"),
]
OPTIONAL_STAGES = {"rfe", "interview_scheduled"}

# code, name, form, employment_based, beneficiary_rule, stages
CASE_TYPES = [
    ("l1", "L-1 intracompany transferee petition", "I-129", True, PETITION, PETITION_STAGES),
    ("o1", "O-1 extraordinary ability petition", "I-129", True, PETITION, PETITION_STAGES),
    ("i765", "I-765 employment authorization", "I-765", False, SELF, FILING_STAGES),
    ("i131", "I-131 advance parole / travel document", "I-131", False, SELF, FILING_STAGES),
    ("i539", "I-539 extension or change of status (e.g. H-4)", "I-539", False, SELF, FILING_STAGES),
    ("i751", "I-751 removal of conditions", "I-751", False, SELF, FILING_STAGES),
    ("i90", "I-90 green card renewal", "I-90", False, SELF, FILING_STAGES),
    (
        "consular_processing",
        "Consular processing (immigrant visa)",
        "DS-260",
        False,
        PETITION,
        CONSULAR_STAGES,
    ),
]


def seed(apps, schema_editor):
    CaseType = apps.get_model("matters", "CaseType")
    Stage = apps.get_model("matters", "Stage")
    start = (CaseType.objects.order_by("-position").values_list("position", flat=True).first()) or 0
    for offset, (code, name, form, employment, rule, stages) in enumerate(CASE_TYPES, start=1):
        case_type, _ = CaseType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "form": form,
                "employment_based": employment,
                "beneficiary_rule": rule,
                "position": start + offset,
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


class Migration(migrations.Migration):
    dependencies = [("matters", "0005_matter_budget")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
