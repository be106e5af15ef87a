"""Payer rules the law attaches to fee codes, whatever category a line is given (ADR 011):
the beneficiary never pays the ACWIA fee, the fraud prevention and detection fee or the H-1B
proclamation payment. Frozen here; ``billing.fees.FEE_PAYER_RULES`` keeps the same rows."""

from django.db import migrations

EMPLOYER_ONLY = "20 CFR 655.731(c)(10)(ii): the employer may not receive reimbursement of"
RULES = [
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


def seed(apps, schema_editor):
    FeePayerRule = apps.get_model("billing", "FeePayerRule")
    for code, citation, keywords in RULES:
        FeePayerRule.objects.update_or_create(
            fee_code=code,
            defaults={"beneficiary_may_pay": False, "citation": citation, "keywords": keywords},
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_government_fee_paths")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
