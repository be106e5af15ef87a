from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from caseledger.portal.services import PORTAL_LANGUAGES


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )


class StaffMessageForm(forms.Form):
    body = forms.CharField(
        label="Reply to the client", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[
            (code, name)
            for code, name in (("en", "English"), ("es", "Español"))
            if code in PORTAL_LANGUAGES
        ],
    )


class BeneficiaryInviteForm(forms.Form):
    """Staff invite the beneficiary of a company's matter to the portal (matter page)."""

    email = forms.EmailField(
        label="Beneficiary's email",
        help_text="Their own address: they sign in with it and see this case only.",
    )
    language = forms.ChoiceField(
        label="Language of their portal and emails",
        choices=[("en", "English"), ("es", "Spanish (Español)")],
    )


class StatementForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: date | None = data.get("date_from")
        end: date | None = data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period must be on or after its start."))
        return data
