from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models

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
from caseledger.clients.countries import country_name
from caseledger.core.crypto import EncryptedDateField, EncryptedTextField, lookup_hash, mask


def identity_hash(name: str, date_of_birth: date | None) -> str:
    """Keyed hash of normalized name + date of birth (the duplicate-warning key)."""
    if not name or not date_of_birth:
        return ""
    normalized = " ".join(name.lower().split())
    return lookup_hash(f"{normalized}|{date_of_birth.isoformat()}")


# PersonalData's fields kept encrypted (EncryptedTextField, EncryptedDateField).
PII_FIELDS = ("a_number", "passport_number", "date_of_birth", "ssn_itin")


class PersonalData(models.Model):
    """Sensitive identifiers of a person, encrypted at rest (see core.crypto).

    ``a_number_hash`` is the keyed hash of the normalized A-number for exact-match search;
    ``identity_hash`` is the keyed hash of normalized name + date of birth for the duplicate
    warning. Both are written only by the clients services."""

    a_number = EncryptedTextField(blank=True, default="")
    a_number_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    passport_number = EncryptedTextField(blank=True, default="")
    # ISO 3166 alpha-2 (clients.countries); older unknown values are kept and shown as stored.
    passport_country = models.CharField(max_length=2, blank=True, default="")
    date_of_birth = EncryptedDateField(blank=True, null=True)
    ssn_itin = EncryptedTextField(blank=True, default="")
    country_of_citizenship = models.CharField(max_length=2, blank=True, default="")
    identity_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # The USCIS online account number (12 digits, on notices of online filings); its own
    # identifier, never an A-number. Digits only (clients.validators.normalize_online_account).
    uscis_online_account_number = models.CharField(max_length=12, blank=True, default="")

    class Meta:
        abstract = True

    def refresh_lookup_hashes(self) -> dict[str, str]:
        """Recompute the hash columns from the current values; returns them (for rotation)."""
        self.a_number_hash = lookup_hash(self.a_number)
        self.identity_hash = identity_hash(getattr(self, "name", ""), self.date_of_birth)
        return {"a_number_hash": self.a_number_hash, "identity_hash": self.identity_hash}

    @property
    def a_number_masked(self) -> str:
        return mask(self.a_number, 3)

    @property
    def passport_masked(self) -> str:
        return mask(self.passport_number, 3)

    @property
    def ssn_masked(self) -> str:
        return mask(self.ssn_itin, 4)

    @property
    def date_of_birth_masked(self) -> str:
        return "••••-••-••" if self.date_of_birth else ""

    @property
    def has_pii(self) -> bool:
        return bool(self.a_number or self.passport_number or self.date_of_birth or self.ssn_itin)


class Client(PersonalData):
    """A person or a company the firm bills (the petitioner in employment and family cases)."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=ClientKind.choices)
    client_type = models.CharField(max_length=12, choices=ClientType.choices)
    # How the client came to the firm (reports' intake-source cohort); empty: not known.
    intake_source = models.CharField(
        max_length=12, choices=IntakeSource.choices, blank=True, default=""
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True, default="")
    responsible_partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Portal logins that act for this client (role CLIENT).
    portal_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="portal_clients"
    )
    # Billing preferences.
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    auto_apply_trust = models.BooleanField(
        default=False, help_text="Pay issued invoices from this client's trust funds."
    )
    ledes_required = models.BooleanField(default=False, help_text="Send LEDES 1998B e-bills.")
    # Employer attributes the government fee rules read (billing.fees): the employee band
    # decides the ACWIA fee ($750 / $1,500), the I-129 base fee and the Asylum Program Fee.
    employee_band = models.CharField(
        max_length=12, choices=EmployeeBand.choices, blank=True, default=""
    )
    nonprofit = models.BooleanField(
        default=False,
        help_text="IRC 501(c)(3) nonprofit: reduced I-129 fee, no Asylum Program Fee.",
    )
    acwia_exemption = models.CharField(
        max_length=20, choices=AcwiaExemption.choices, blank=True, default=""
    )
    preferred_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    # Postal address.
    address_line1 = models.CharField(max_length=200, blank=True, default="")
    address_line2 = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    region = models.CharField(max_length=100, blank=True, default="")  # state / province
    postal_code = models.CharField(max_length=20, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="US")  # ISO 3166 alpha-2
    notes = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["name"]), models.Index(fields=["email"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(payment_terms_days__lte=365),
                name="clients_client_payment_terms_max_365",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_person(self) -> bool:
        return self.kind == ClientKind.PERSON

    @property
    def address_lines(self) -> list[str]:
        city_line = " ".join(
            p
            for p in [self.city + ("," if self.region else ""), self.region, self.postal_code]
            if p
        )
        lines = [self.address_line1, self.address_line2, city_line]
        if self.country and self.country != "US":
            lines.append(country_name(self.country))
        return [line for line in lines if line.strip(", ")]


class Contact(models.Model):
    """A person at the client the firm deals with (billing contact, HR contact...)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True, default="")
    role = models.CharField(max_length=12, choices=ContactRole.choices, default=ContactRole.PRIMARY)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class Beneficiary(PersonalData):
    """The foreign national a petition is for, linked to the petitioning client (an employer or a
    U.S. citizen / permanent-resident relative). Self-petitions (naturalization, asylum) have no
    beneficiary row: the client is the beneficiary (see matters.CaseType.beneficiary_rule)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="beneficiaries")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=12, choices=Relationship.choices)
    email = models.EmailField(blank=True)
    # Portal logins of the beneficiary themselves (role CLIENT, invited from a company client's
    # matter): they see their own cases only, never the employer's invoices, trust or other
    # matters (portal.selectors). Not among the client's ``portal_users``.
    portal_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="portal_beneficiaries"
    )
    # The language of the beneficiary's portal pages and emails (chosen in the portal).
    preferred_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    # The company's grant: the beneficiary's login also sees the invoices (PDF, pay online) and
    # the trust balance of their own matters, never of the employer's other matters. Set by the
    # company's portal contact or by firm staff (clients.services.beneficiary_account_access_set).
    account_access_granted = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "beneficiaries"
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name
