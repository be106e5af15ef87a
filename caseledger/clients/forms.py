"""Forms parse input only; the services hold the rules and raise messages naming the field."""

from __future__ import annotations

from typing import Any

from django import forms

from caseledger.clients.choices import (
    AcwiaExemption,
    ClientKind,
    ClientType,
    ContactRole,
    EmployeeBand,
    IntakeSource,
    Language,
    Relationship,
)
from caseledger.clients.countries import CODES, COUNTRY_CHOICES
from caseledger.core.choices import Role
from caseledger.core.models import User

DATE = forms.DateInput(attrs={"type": "date"})
PII_HELP_EDIT = "Stored encrypted. Leave blank to keep the value on file."


UNKNOWN_COUNTRY = "{value} (not an ISO country code: choose the country)"


class CountryField(forms.ChoiceField):
    """An ISO 3166 alpha-2 country, chosen by name."""

    def __init__(self, *, blank_label: str = "— none —", **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(choices=[("", blank_label), *COUNTRY_CHOICES], **kwargs)


def keep_unknown_countries(form: forms.Form) -> None:
    """An old stored value that is not an ISO code stays visible as its own choice (so the
    page shows it and nothing is lost silently); saving it is refused by the service, with the
    message under the field, until a country is chosen."""
    for name, field in form.fields.items():
        if not isinstance(field, CountryField):
            continue
        value = form.data.get(name) if form.is_bound else form.initial.get(name, field.initial)
        value = (value or "").strip() if isinstance(value, str) else ""
        if value and value not in CODES:
            field.choices = [
                ("", "— none —"),
                *COUNTRY_CHOICES,
                (value, UNKNOWN_COUNTRY.format(value=value)),
            ]


class PersonalDataFields(forms.Form):
    a_number = forms.CharField(
        label="A-number",
        required=False,
        max_length=20,
        help_text="A and 7, 8 or 9 digits as USCIS prints it; stored as A plus nine digits.",
    )
    uscis_online_account_number = forms.CharField(
        label="USCIS online account number",
        required=False,
        max_length=20,
        help_text="12 digits, from a notice of an online filing (not the A-number).",
    )
    date_of_birth = forms.DateField(required=False, widget=DATE)
    passport_number = forms.CharField(required=False, max_length=30)
    passport_country = CountryField(label="Passport country")
    country_of_citizenship = CountryField(label="Country of citizenship")
    ssn_itin = forms.CharField(label="SSN / ITIN", required=False, max_length=11)

    PII = ("a_number", "date_of_birth", "passport_number", "ssn_itin")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keep_unknown_countries(self)

    def make_write_only(self) -> None:
        """On edit the sensitive values are never sent to the browser: blank keeps them."""
        for name in self.PII:
            self.fields[name].help_text = PII_HELP_EDIT

    def pii_values(self, *, editing: bool) -> dict[str, Any]:
        data = {
            k: self.cleaned_data.get(k)
            for k in (*self.PII, "passport_country", "country_of_citizenship")
        }
        if editing:
            for name in self.PII:
                if not data[name]:
                    data.pop(name)
            if "passport_number" not in data:
                data.pop("passport_country", None)
        return data


class ClientForm(PersonalDataFields):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=ClientKind.choices, initial=ClientKind.COMPANY)
    client_type = forms.ChoiceField(
        label="Client type", choices=ClientType.choices, help_text="Reporting cohort."
    )
    intake_source = forms.ChoiceField(
        label="Came to us through",
        choices=[("", "— not known —"), *IntakeSource.choices],
        required=False,
        help_text="Reporting cohort.",
    )
    email = forms.EmailField(required=False)
    phone = forms.CharField(required=False, max_length=40)
    responsible_partner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="— none —"
    )
    address_line1 = forms.CharField(label="Address", required=False, max_length=200)
    address_line2 = forms.CharField(label="Address line 2", required=False, max_length=200)
    city = forms.CharField(required=False, max_length=100)
    region = forms.CharField(label="State / region", required=False, max_length=100)
    postal_code = forms.CharField(required=False, max_length=20)
    country = CountryField(initial="US")
    payment_terms_days = forms.IntegerField(
        label="Payment terms (days)", min_value=0, max_value=365, initial=30
    )
    auto_apply_trust = forms.BooleanField(
        label="Pay issued invoices from trust automatically", required=False
    )
    ledes_required = forms.BooleanField(label="LEDES e-billing required", required=False)
    employee_band = forms.ChoiceField(
        label="Full-time employees (U.S.)",
        choices=EmployeeBand.choices,
        required=False,
        help_text="Sets the ACWIA fee ($750 / $1,500), the I-129 fee and the Asylum Program Fee.",
    )
    nonprofit = forms.BooleanField(
        label="Nonprofit (501(c)(3))",
        required=False,
        help_text="Reduced I-129 fee; no Asylum Program Fee.",
    )
    acwia_exemption = forms.ChoiceField(
        label="ACWIA fee exemption", choices=AcwiaExemption.choices, required=False
    )
    preferred_language = forms.ChoiceField(
        label="Language for documents", choices=Language.choices, initial=Language.ENGLISH
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    confirm_duplicate = forms.BooleanField(
        label="This is a different client: create it anyway", required=False
    )

    field_order = [
        "name", "kind", "client_type", "intake_source", "email", "phone", "responsible_partner",
        "address_line1", "address_line2", "city", "region", "postal_code", "country",
        "payment_terms_days", "auto_apply_trust", "ledes_required", "preferred_language",
        "employee_band", "nonprofit", "acwia_exemption", "a_number",
        "uscis_online_account_number", "date_of_birth", "passport_number",
        "passport_country", "country_of_citizenship", "ssn_itin", "notes", "confirm_duplicate",
    ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        partners = User.objects.filter(role=Role.PARTNER, is_active=True)
        self.fields["responsible_partner"].queryset = partners.order_by(  # type: ignore[attr-defined]
            "last_name", "first_name", "id"
        )

    GROUPS = [
        ("Client", ["name", "kind", "client_type", "intake_source", "email", "phone",
                    "responsible_partner"]),
        ("Postal address", ["address_line1", "address_line2", "city", "region", "postal_code",
                            "country"]),
        ("Billing preferences", ["payment_terms_days", "preferred_language", "auto_apply_trust",
                                 "ledes_required"]),
        ("Employer (government fees)", ["employee_band", "nonprofit", "acwia_exemption"]),
        ("Identifiers (people only; stored encrypted)", ["a_number",
         "uscis_online_account_number", "date_of_birth", "passport_number", "passport_country",
         "country_of_citizenship", "ssn_itin"]),
        ("Notes", ["notes"]),
    ]  # fmt: skip

    def groups(self) -> list[tuple[str, list[Any]]]:
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in self.GROUPS
        ]

    def service_values(self, *, editing: bool = False) -> dict[str, Any]:
        data = {
            k: self.cleaned_data.get(k)
            for k in self.fields
            if k
            not in {*self.PII, "passport_country", "country_of_citizenship", "confirm_duplicate"}
        }
        for key in ("email", "phone", "address_line1", "address_line2", "city", "region",
                    "postal_code", "country", "notes"):  # fmt: skip
            data[key] = data.get(key) or ""
        data.update(self.pii_values(editing=editing))
        return data


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    role = forms.ChoiceField(choices=ContactRole.choices)
    email = forms.EmailField(required=False)
    phone = forms.CharField(required=False, max_length=40)


class BeneficiaryForm(PersonalDataFields):
    name = forms.CharField(max_length=200, help_text="Full name as in the passport.")
    relationship = forms.ChoiceField(
        label="Relationship to the petitioner", choices=Relationship.choices
    )
    email = forms.EmailField(required=False)

    field_order = [
        "name", "relationship", "email", "a_number", "uscis_online_account_number",
        "date_of_birth", "passport_number", "passport_country", "country_of_citizenship",
        "ssn_itin",
    ]  # fmt: skip

    def service_values(self, *, editing: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.cleaned_data["name"],
            "relationship": self.cleaned_data["relationship"],
            "email": self.cleaned_data.get("email") or "",
            "uscis_online_account_number": self.cleaned_data.get("uscis_online_account_number")
            or "",
        }
        data.update(self.pii_values(editing=editing))
        return data
