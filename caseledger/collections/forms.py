"""Forms of the collections pages: parse input; the services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from caseledger.clients.choices import ClientType
from caseledger.collections.choices import ActivityKind
from caseledger.collections.models import CollectionPolicy
from caseledger.collections.selectors import GROUP_LABELS
from caseledger.collections.services import StageInput

STAGE_ROWS = 5


class AgingForm(forms.Form):
    as_of = forms.DateField(label="As of", required=False)
    group = forms.ChoiceField(label="Group by", choices=list(GROUP_LABELS.items()), required=False)


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=120)
    client_type = forms.ChoiceField(
        label="Applies to",
        choices=[("", "All clients (firm default)"), *ClientType.choices],
        required=False,
    )
    exclude_payment_plan = forms.BooleanField(
        label="Skip invoices on a payment plan in good standing", required=False
    )
    exclude_dispute = forms.BooleanField(label="Skip invoices with an open dispute", required=False)
    exclude_trust_covered = forms.BooleanField(
        label="Skip invoices whose matter holds enough trust to pay", required=False
    )
    at_risk_days = forms.IntegerField(
        label="At risk: case deadline within (days)", min_value=0, max_value=1000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(STAGE_ROWS):
            p = f"stage{i}_"
            self.fields[p + "code"] = forms.CharField(label="Code", required=False, max_length=40)
            self.fields[p + "name"] = forms.CharField(label="Name", required=False, max_length=120)
            self.fields[p + "days_from"] = forms.IntegerField(
                label="From day", required=False, min_value=0
            )
            self.fields[p + "days_to"] = forms.IntegerField(
                label="To day (blank: no end)", required=False, min_value=0
            )
            for flag, label in [
                ("send_email", "Email"),
                ("send_letter", "Letter"),
                ("open_task", "Task"),
                ("escalate_partner", "Escalate to partner"),
                ("set_hold", "Hold new work"),
            ]:
                self.fields[p + flag] = forms.BooleanField(label=label, required=False)
            self.fields[p + "subject"] = forms.CharField(
                label="Subject", required=False, max_length=200
            )
            self.fields[p + "body"] = forms.CharField(
                label="Message", required=False, widget=forms.Textarea(attrs={"rows": 4})
            )

    @staticmethod
    def initial_for(policy: CollectionPolicy | None) -> dict[str, Any]:
        if policy is None:
            return {
                "exclude_payment_plan": True,
                "exclude_dispute": True,
                "exclude_trust_covered": True,
                "at_risk_days": 14,
            }
        data: dict[str, Any] = {
            "name": policy.name,
            "client_type": policy.client_type,
            "exclude_payment_plan": policy.exclude_payment_plan,
            "exclude_dispute": policy.exclude_dispute,
            "exclude_trust_covered": policy.exclude_trust_covered,
            "at_risk_days": policy.at_risk_days,
        }
        stages = policy.stages.filter(active=True).order_by("days_from", "id")
        for i, s in enumerate(stages[:STAGE_ROWS]):
            p = f"stage{i}_"
            for attr in [
                "code",
                "name",
                "days_from",
                "days_to",
                "send_email",
                "send_letter",
                "open_task",
                "escalate_partner",
                "set_hold",
                "subject",
                "body",
            ]:
                data[p + attr] = getattr(s, attr)
        return data

    def stage_rows(self) -> list[list[Any]]:
        return [
            [self[f"stage{i}_{name}"] for name in self._stage_field_names()]
            for i in range(STAGE_ROWS)
        ]

    @staticmethod
    def _stage_field_names() -> list[str]:
        return [
            "code",
            "name",
            "days_from",
            "days_to",
            "send_email",
            "send_letter",
            "open_task",
            "escalate_partner",
            "set_hold",
            "subject",
            "body",
        ]

    def stages(self) -> list[StageInput]:
        out = []
        data = self.cleaned_data
        for i in range(STAGE_ROWS):
            p = f"stage{i}_"
            if not (data.get(p + "code") or data.get(p + "name")):
                continue
            out.append(
                StageInput(
                    code=(data.get(p + "code") or "").strip(),
                    name=data.get(p + "name") or "",
                    days_from=data.get(p + "days_from") or 0,
                    days_to=data.get(p + "days_to"),
                    subject=data.get(p + "subject") or "",
                    body=data.get(p + "body") or "",
                    send_email=bool(data.get(p + "send_email")),
                    send_letter=bool(data.get(p + "send_letter")),
                    open_task=bool(data.get(p + "open_task")),
                    escalate_partner=bool(data.get(p + "escalate_partner")),
                    set_hold=bool(data.get(p + "set_hold")),
                )
            )
        return out


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=ActivityKind.choices)
    promised_date = forms.DateField(label="Promised payment date", required=False)
    promised_amount = forms.CharField(label="Promised amount", required=False)
    note = forms.CharField(label="Note", required=False, max_length=500)


class DisputeForm(forms.Form):
    reason = forms.CharField(label="What the client disputes", max_length=500, required=False)


class ResolveForm(forms.Form):
    resolution = forms.CharField(label="Resolution", max_length=500, required=False)


class PlanForm(forms.Form):
    installment = forms.CharField(label="Installment amount")
    first_due_date = forms.DateField(label="First installment due")
    interval_days = forms.IntegerField(label="Every (days)", initial=30)


class HoldLiftForm(forms.Form):
    reason = forms.CharField(label="Reason for lifting the hold", max_length=300, required=False)
