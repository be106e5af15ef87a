"""Matter pages: list with filters and search, detail (timeline, advance, hold, receipts,
deadlines, tasks), create/edit, my tasks, case types and deadline lead times."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from caseledger.clients.models import Client
from caseledger.clients.selectors import client_pick, clients_visible_to
from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.choices import Role
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import error_text, form_errors_tidy, handle_form
from caseledger.core.panels import PanelScope, panels_for_page, stage_notices
from caseledger.core.permissions import authorize, capability_required, require
from caseledger.matters import documents, selectors, services
from caseledger.matters.choices import DeadlineKind
from caseledger.matters.forms import (
    AdvanceForm,
    BudgetForm,
    CaseTypeForm,
    DeadlineForm,
    DeadlineRuleFormSet,
    DocumentForm,
    HoldForm,
    MatterFilterForm,
    MatterForm,
    ReceiptForm,
    StageFormSet,
    TaskForm,
)
from caseledger.matters.models import (
    CaseType,
    Deadline,
    FirmDeadlineRule,
    Matter,
    MatterDocument,
    Task,
)

PICK_LIMIT = 30
TASK_PAGE_ROWS = 50  # clients listed on the "open a matter" client search


@capability_required("matters.view")
def matter_list(request: HttpRequest) -> HttpResponse:
    form = MatterFilterForm(request.GET or None)
    filters = selectors.MatterFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.MatterFilters(
            search=data.get("q") or "",
            attorney_id=data["attorney"].pk if data.get("attorney") else None,
            partner_id=data["partner"].pk if data.get("partner") else None,
            case_type_id=data["case_type"].pk if data.get("case_type") else None,
            stage_code=data.get("stage") or "",
            status=data.get("status") or "",
            deadline_within_days=data.get("deadline_within"),
        )
    today = clock.firm_today()
    qs = selectors.matter_list(user=request.user, filters=filters, today=today)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    next_deadlines = selectors.matter_next_deadline(rows)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "matters/matter_list.html",
        {
            "form": form,
            "page": page,
            "rows": [(m, next_deadlines.get(m.pk)) for m in rows],
            "today": today,
            "query": query.urlencode(),
            "filtered": bool(request.GET and any(v for k, v in request.GET.items() if k != "page")),
        },
    )


def _matter_for(request: HttpRequest, pk: int, capability: str = "matters.view") -> Matter:
    matter = get_object_or_404(
        Matter.objects.select_related(
            "client",
            "beneficiary",
            "case_type",
            "current_stage",
            "attorney",
            "paralegal",
            "responsible_partner",
        ),
        pk=pk,
    )
    require(request.user, capability, matter)
    return matter


def _detail_context(request: HttpRequest, matter: Matter, **forms: Any) -> dict[str, Any]:
    user = request.user
    can_skip = authorize(user, "matters.skip_stage", matter)
    can_override = authorize(user, "matters.override_hold", matter)
    today = clock.firm_today()
    deadlines = list(matter.deadlines.select_related("task").order_by("met_at", "due_date", "id"))
    scope = PanelScope(
        page="matter",
        client=matter.client,
        matter=matter,
        matter_ids=[matter.pk],
        today=today,
        matters=[matter],
    )
    can_budget = authorize(user, "matters.budget", matter)
    timeline = selectors.matter_timeline(matter)
    # The advance form offers the timeline's stages (one read of the case type's template).
    ahead = selectors.stages_ahead(matter, (row["stage"] for row in timeline))
    return {
        "matter": matter,
        "panels": panels_for_page(request, scope),
        "can_budget": can_budget and not matter.is_closed,
        "budget_form": forms.get("budget_form")
        or BudgetForm(initial={"budget_kind": matter.budget_kind, "budget": matter.budget_cents}),
        "timeline": timeline,
        "receipts": matter.receipts.order_by("created_at", "id"),
        "deadlines": deadlines,
        "tasks": matter.tasks.select_related("assignee").order_by("status", "due_date", "id"),
        "today": today,
        "advance_form": forms.get("advance_form")
        or AdvanceForm(
            matter=matter,
            can_skip=can_skip,
            can_override=can_override,
            stages=ahead,
            initial={"stage": ahead[0] if ahead else None},
        ),
        "hold_form": forms.get("hold_form") or HoldForm(),
        "receipt_form": forms.get("receipt_form") or ReceiptForm(),
        "deadline_form": forms.get("deadline_form") or DeadlineForm(),
        "task_form": forms.get("task_form") or TaskForm(),
        "documents": list(documents.matter_documents(matter)),
        "document_form": forms.get("document_form") or DocumentForm(),
    }


@capability_required("matters.view")
def matter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    matter = _matter_for(request, pk)
    return render(request, "matters/matter_detail.html", _detail_context(request, matter))


def _detail_with_errors(request: HttpRequest, matter: Matter, **forms: Any) -> HttpResponse:
    return render(
        request, "matters/matter_detail.html", _detail_context(request, matter, **forms), status=422
    )


@capability_required("matters.manage")
def matter_create(request: HttpRequest) -> HttpResponse:
    visible = clients_visible_to(request.user).order_by("name", "id")
    client_id = request.GET.get("client") or request.POST.get("client")
    if not client_id or not str(client_id).isdigit():
        query = (request.GET.get("q") or "").strip()[:100]
        found = client_pick(visible, query=query)
        shown = list(found[:PICK_LIMIT])
        return render(
            request,
            "matters/matter_pick_client.html",
            {
                "clients": shown,
                "query": query,
                "count": found.count() if len(shown) == PICK_LIMIT else len(shown),
                "limit": PICK_LIMIT,
            },
        )
    client = get_object_or_404(Client, pk=client_id)
    require(request.user, "clients.view", client)
    # Whoever opens the matter stays on its team unless they choose otherwise.
    initial = {}
    user = staff(request)
    if user.role == Role.PARALEGAL:
        initial["paralegal"] = user
    elif user.role == Role.ATTORNEY:
        initial["attorney"] = user
    form = MatterForm(request.POST or None, client=client, initial=initial)
    matter = handle_form(
        request,
        form,
        lambda d: services.matter_create(
            client=client,
            actor=staff(request),
            now=clock.now(),
            **d,
        ),
    )
    if matter is not None:
        messages.success(request, f"Matter {matter.number} opened at {matter.current_stage}.")
        return redirect("matters:detail", pk=matter.pk)
    return render(request, "matters/matter_form.html", {"form": form, "client": client})


@capability_required("matters.manage")
def matter_edit(request: HttpRequest, pk: int) -> HttpResponse:
    matter = _matter_for(request, pk, "matters.manage")
    initial = {
        "beneficiary": matter.beneficiary,
        "title": matter.title,
        "responsible_partner": matter.responsible_partner,
        "attorney": matter.attorney,
        "paralegal": matter.paralegal,
        "priority_date": matter.priority_date,
        "office": matter.office,
        "notes": matter.notes,
        "beneficiary_location": matter.beneficiary_location,
        "employer_prior_extensions": matter.employer_prior_extensions,
    }
    form = MatterForm(request.POST or None, client=matter.client, editing=True, initial=initial)
    saved = handle_form(
        request,
        form,
        lambda d: services.matter_update(
            matter=matter,
            actor=staff(request),
            now=clock.now(),
            **d,
        ),
    )
    if saved is not None:
        messages.success(request, "Matter saved.")
        return redirect("matters:detail", pk=matter.pk)
    return render(
        request,
        "matters/matter_form.html",
        {"form": form, "client": matter.client, "matter": matter},
    )


@require_POST
@capability_required("matters.advance")
def matter_advance(request: HttpRequest, pk: int) -> HttpResponse:
    matter = _matter_for(request, pk, "matters.advance")
    form = AdvanceForm(
        request.POST,
        matter=matter,
        can_skip=authorize(request.user, "matters.skip_stage", matter),
        can_override=authorize(request.user, "matters.override_hold", matter),
    )
    event = handle_form(
        request,
        form,
        lambda d: services.matter_stage_advance(
            matter=matter,
            stage=d["stage"],
            actor=staff(request),
            now=clock.now(),
            allow_skip=bool(d.get("allow_skip")),
            override_reason=d.get("override_reason") or None,
            note=d.get("note") or "",
        ),
    )
    if event is not None:
        messages.success(request, f"{matter.number} moved to {event.stage.name}.")
        for notice in stage_notices(event):
            if notice.url:
                messages.info(
                    request,
                    format_html(
                        '{} <a href="{}">{}</a>', notice.text, notice.url, notice.link_text
                    ),
                )
            else:
                messages.info(request, notice.text)
        return redirect("matters:detail", pk=matter.pk)
    return _detail_with_errors(request, matter, advance_form=form)


@require_POST
@capability_required("matters.budget")
def matter_budget(request: HttpRequest, pk: int) -> HttpResponse:
    matter = _matter_for(request, pk, "matters.budget")
    form = BudgetForm(request.POST)
    saved = handle_form(
        request,
        form,
        lambda d: services.matter_budget_set(
            matter=matter,
            kind=d.get("budget_kind") or "",
            amount_cents=d.get("budget"),
            reason=d["reason"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if saved is not None:
        messages.success(request, "Budget saved.")
        return redirect(reverse("matters:detail", args=[matter.pk]) + "#budget")
    return _detail_with_errors(request, matter, budget_form=form)


@require_POST
@capability_required("matters.hold")
def matter_hold(request: HttpRequest, pk: int) -> HttpResponse:
    return _hold_change(request, pk, services.matter_hold_set, "{number} is on hold for new work.")


@require_POST
@capability_required("matters.hold")
def matter_lift(request: HttpRequest, pk: int) -> HttpResponse:
    return _hold_change(request, pk, services.matter_hold_lift, "Hold lifted on {number}.")


def _hold_change(
    request: HttpRequest, pk: int, service: Callable[..., Matter], done: str
) -> HttpResponse:
    """Set or lift the hold on new work (both need a reason): the service, then the message."""
    matter = _matter_for(request, pk, "matters.hold")
    form = HoldForm(request.POST)
    changed = handle_form(
        request,
        form,
        lambda d: service(matter=matter, actor=staff(request), reason=d["reason"], now=clock.now()),
    )
    if changed is not None:
        messages.success(request, done.format(number=matter.number))
        return redirect("matters:detail", pk=matter.pk)
    return _detail_with_errors(request, matter, hold_form=form)


@require_POST
@capability_required("matters.manage")
def receipt_add(request: HttpRequest, pk: int) -> HttpResponse:
    matter = _matter_for(request, pk, "matters.manage")
    form = ReceiptForm(request.POST)

    def add(data: dict[str, Any]) -> Any:
        try:
            return services.receipt_add(
                matter=matter,
                number=data["number"],
                form=data.get("form") or "",
                received_date=data.get("received_date"),
                actor=staff(request),
                now=clock.now(),
            )
        except ApplicationError as exc:  # not shown here: handle_form puts it under "number"
            # The service names the matter's "receipt_number"; on this form it is "number".
            message = error_text(exc.message, "receipt_number")
            raise ApplicationError(message, field="number") from exc

    receipt = handle_form(request, form, add)
    if receipt is not None:
        messages.success(request, "Receipt number recorded.")
        return redirect("matters:detail", pk=matter.pk)
    return _detail_with_errors(request, matter, receipt_form=form)


@require_POST
@capability_required("matters.documents")
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep a document on the matter's file (PDF, PNG or JPEG), shared with the client at once
    when asked; a refused file is shown under the field with the rule it broke."""
    matter = _matter_for(request, pk, "matters.documents")
    form = DocumentForm(request.POST, request.FILES)
    document = handle_form(
        request,
        form,
        lambda data: documents.document_upload(
            matter=matter,
            upload=data["file"],
            title=data["title"],
            kind=data["kind"],
            share=bool(data.get("share")),
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if document is None:
        return _detail_with_errors(request, matter, document_form=form)
    shared = " and shared it with the client" if document.is_shared else ""
    messages.success(request, f"Kept {document.filename} on the matter's file{shared}.")
    return redirect(reverse("matters:detail", args=[matter.pk]) + "#documents")


def _document_for(request: HttpRequest, pk: int, capability: str) -> MatterDocument:
    document = get_object_or_404(MatterDocument.objects.select_related("matter__client"), pk=pk)
    require(request.user, capability, document.matter)
    return document


@capability_required("matters.view")
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored file, for the matter's team (clients download through the portal's signed
    links)."""
    return documents.document_response(_document_for(request, pk, "matters.view"))


def _document_change(request: HttpRequest, pk: int, change: Callable[..., Any], done: str) -> Any:
    document = _document_for(request, pk, "matters.documents")
    service_action(
        request,
        lambda: change(document=document, actor=staff(request), now=clock.now()),
        done.format(title=document.title),
    )
    return redirect(reverse("matters:detail", args=[document.matter_id]) + "#documents")


@require_POST
@capability_required("matters.documents")
def document_share(request: HttpRequest, pk: int) -> HttpResponse:
    return _document_change(
        request, pk, documents.document_share, "{title} is now shared with the client."
    )


@require_POST
@capability_required("matters.documents")
def document_unshare(request: HttpRequest, pk: int) -> HttpResponse:
    return _document_change(
        request, pk, documents.document_unshare, "{title} is no longer shared with the client."
    )


@require_POST
@capability_required("matters.manage")
def deadline_add(request: HttpRequest, pk: int) -> HttpResponse:
    matter = _matter_for(request, pk, "matters.manage")
    form = DeadlineForm(request.POST)
    deadline = handle_form(
        request,
        form,
        lambda d: services.deadline_create(
            matter=matter,
            actor=staff(request),
            now=clock.now(),
            **d,
        ),
    )
    if deadline is not None:
        note = " A reminder task is open." if deadline.task_id else ""
        messages.success(request, f"Deadline recorded.{note}")
        return redirect("matters:detail", pk=matter.pk)
    return _detail_with_errors(request, matter, deadline_form=form)


@require_POST
@capability_required("matters.manage")
def deadline_met(request: HttpRequest, pk: int) -> HttpResponse:
    deadline = get_object_or_404(Deadline.objects.select_related("matter"), pk=pk)
    require(request.user, "matters.manage", deadline.matter)
    service_action(
        request,
        lambda: services.deadline_mark_met(
            deadline=deadline, actor=staff(request), now=clock.now()
        ),
        "Deadline marked met.",
    )
    return redirect("matters:detail", pk=deadline.matter_id)


@require_POST
@capability_required("tasks.manage")
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    matter = _matter_for(request, pk, "matters.view")
    form = TaskForm(request.POST)
    task = handle_form(
        request,
        form,
        lambda d: services.task_create(
            matter=matter,
            actor=staff(request),
            now=clock.now(),
            title=d["title"],
            assignee=d.get("assignee"),
            assignee_role=d.get("assignee_role") or "",
            due_date=d.get("due_date"),
        ),
    )
    if task is not None:
        messages.success(request, "Task added.")
        return redirect("matters:detail", pk=matter.pk)
    return _detail_with_errors(request, matter, task_form=form)


@capability_required("tasks.view")
def my_tasks(request: HttpRequest) -> HttpResponse:
    show_done = request.GET.get("show") == "all"
    tasks = selectors.tasks_for_user(user=request.user, include_done=show_done)
    page = Paginator(tasks, TASK_PAGE_ROWS).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "matters/my_tasks.html",
        {
            "page": page,
            "tasks": page.object_list,
            "query": query.urlencode(),
            "today": clock.firm_today(),
            "show_done": show_done,
        },
    )


@require_POST
@capability_required("tasks.manage")
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("matter"), pk=pk)
    require(request.user, "tasks.manage", task)
    service_action(
        request,
        lambda: services.task_complete(task=task, actor=staff(request), now=clock.now()),
        f"Done: {task.title}",
    )
    target = request.POST.get("next", "")
    if target == "matter" and task.matter_id:
        return redirect("matters:detail", pk=task.matter_id)
    return redirect("matters:my_tasks")


# Case types --------------------------------------------------------------------------------


@capability_required("matters.case_types")
def case_types(request: HttpRequest) -> HttpResponse:
    from django.db.models import Count

    rows = selectors.case_type_list().annotate(
        stage_count=Count("stages", distinct=True), matter_count=Count("matters", distinct=True)
    )
    rules = {r.kind: r for r in FirmDeadlineRule.objects.all()}
    initial = [
        {
            "kind": kind,
            "lead_days": rules[kind].lead_days if kind in rules else 14,
            "assign_to": rules[kind].assign_to if kind in rules else "PARALEGAL",
        }
        for kind in DeadlineKind.values
    ]
    formset = DeadlineRuleFormSet(request.POST or None, initial=initial, prefix="rules")
    if request.method == "POST" and formset.is_valid():
        # Every rule in one transaction; a refusal is the banner above the page shown again.
        saved = service_action(
            request,
            lambda: [
                services.deadline_rule_update(
                    actor=staff(request), now=clock.now(), **f.cleaned_data
                )
                for f in formset
            ],
            "Deadline lead times saved.",
        )
        if saved is not None:
            return redirect("matters:case_types")
    labels = dict(DeadlineKind.choices)
    return render(
        request,
        "matters/case_types.html",
        {
            "case_types": rows,
            "rule_rows": [(labels[f.initial["kind"]], f) for f in formset],
            "formset": formset,
        },
    )


def _stage_rows(formset: Any) -> list[dict[str, Any]]:
    rows = []
    for index, form in enumerate(formset):
        data = form.cleaned_data
        if not data or data.get("remove") or not (data.get("code") or data.get("name")):
            continue
        order = data.get("order")
        rows.append(
            {
                "sort": (order if order is not None else 900 + index, index),
                "id": data.get("id"),
                "code": data.get("code") or "",
                "name": data.get("name") or "",
                "optional": data.get("optional"),
                "closes_matter": data.get("closes_matter"),
            }
        )
    rows.sort(key=lambda r: r.pop("sort"))
    return rows


@capability_required("matters.case_types")
def case_type_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    case_type = get_object_or_404(CaseType, pk=pk) if pk else None
    initial: dict[str, Any] = {"is_active": True}
    stage_initial: list[dict[str, Any]] = []
    if case_type is not None:
        initial = {f: getattr(case_type, f) for f in CaseTypeForm.base_fields}
        stage_initial = [
            {
                "id": s.pk,
                "order": s.position,
                "code": s.code,
                "name": s.name,
                "optional": s.optional,
                "closes_matter": s.closes_matter,
            }
            for s in case_type.stages.order_by("position", "id")
        ]
    form = CaseTypeForm(request.POST or None, initial=initial)
    formset = StageFormSet(request.POST or None, initial=stage_initial, prefix="stages")

    def save(data: dict[str, Any]) -> CaseType:
        # handle_form runs this in one transaction: the case type and its stages together.
        now = clock.now()
        saved = services.case_type_save(
            actor=staff(request),
            now=now,
            case_type=case_type,
            **data,
        )
        services.case_type_stages_save(
            case_type=saved,
            stages=_stage_rows(formset),
            actor=staff(request),
            now=now,
        )
        return saved

    if request.method == "POST" and not formset.is_valid():
        # Every error at once: the case type's fields are checked too, shown without prefixes.
        if not form.is_valid():
            form_errors_tidy(form)
        saved = None
    else:
        saved = handle_form(request, form, save)
    if saved is not None:
        messages.success(request, f"Case type {saved.name} saved.")
        return redirect("matters:case_type_edit", pk=saved.pk)
    return render(
        request,
        "matters/case_type_form.html",
        {"form": form, "formset": formset, "case_type": case_type},
    )
