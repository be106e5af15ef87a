"""Ledger pages: parse input, call one selector or service, render. CSV with ?format=csv."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from caseledger.clients.models import Client
from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.amounts import firm_decimal
from caseledger.core.forms import handle_form
from caseledger.core.permissions import capability_required
from caseledger.core.selectors import firm_get
from caseledger.ledger import selectors, services
from caseledger.ledger.forms import AsOfForm, DateRangeForm, TrustBankAccountForm
from caseledger.ledger.models import Account, JournalEntry
from caseledger.matters.models import Matter

PAGE_SIZE = 100


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    """Stream a CSV download (large ledgers never sit in memory)."""
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Django serves StreamingHttpResponse wherever an HttpResponse goes; the views' declared
    # type stays HttpResponse for the capability decorator.
    return cast(HttpResponse, response)


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


@capability_required("ledger.view")
def accounts(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.account_list())
    if _wants_csv(request):
        return _csv(
            "chart-of-accounts.csv",
            ["code", "name", "type", "normal_balance", "trust", "active", "currency", "balance"],
            (
                [
                    a.code,
                    a.name,
                    a.account_type,
                    a.normal_balance,
                    "yes" if a.is_trust else "no",
                    "yes" if a.is_active else "no",
                    a.currency,
                    firm_decimal(a.balance.balance_cents * a.sign, a.currency),
                ]
                for a in rows
            ),
        )
    for a in rows:
        a.display_balance = a.balance.balance_cents * a.sign  # type: ignore[attr-defined]
    return render(
        request,
        "ledger/accounts.html",
        {
            "accounts": rows,
            "form": TrustBankAccountForm(),
        },
    )


@require_POST
@capability_required("ledger.manage")
def trust_bank_create(request: HttpRequest) -> HttpResponse:
    form = TrustBankAccountForm(request.POST)
    account = handle_form(
        request,
        form,
        lambda d: services.account_trust_bank_create(
            name=d["name"],
            bank_name=d["bank_name"],
            account_number_last4=d["account_number_last4"],
            code=d["code"] or None,
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if account is not None:
        messages.success(request, f"Trust bank account {account} added.")
        return redirect("ledger:accounts")
    rows = list(selectors.account_list())
    for a in rows:
        a.display_balance = a.balance.balance_cents * a.sign  # type: ignore[attr-defined]
    return render(
        request,
        "ledger/accounts.html",
        {"accounts": rows, "form": form},
        status=422,
    )


@require_POST
@capability_required("ledger.manage")
def account_toggle(request: HttpRequest, code: str) -> HttpResponse:
    account = get_object_or_404(Account, code=code)
    if account.is_active:
        change, done = services.account_deactivate, f"{account} deactivated."
    else:
        change, done = services.account_reactivate, f"{account} reactivated."
    service_action(
        request, lambda: change(account=account, actor=staff(request), now=clock.now()), done
    )
    return redirect("ledger:accounts")


@capability_required("ledger.view")
def account_ledger(request: HttpRequest, code: str) -> HttpResponse:
    account = get_object_or_404(Account, code=code)
    form = DateRangeForm(request.GET or None)
    date_from = date_to = None
    if form.is_bound and form.is_valid():
        date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    opening, postings = selectors.account_ledger(
        account=account, date_from=date_from, date_to=date_to
    )
    if _wants_csv(request):
        return _csv(
            f"ledger-{account.code}.csv",
            [
                "date",
                "entry",
                "kind",
                "memo",
                "client",
                "matter",
                "invoice",
                "debit",
                "credit",
                "balance",
            ],
            (
                [
                    p.entry_date.isoformat(),
                    f"JE-{p.entry_id}",
                    p.entry.kind,
                    p.entry.memo,
                    p.client.name if p.client else "",
                    p.matter.number if p.matter else "",
                    str(p.invoice) if p.invoice else "",
                    firm_decimal(p.amount_cents, account.currency) if p.amount_cents > 0 else "",
                    firm_decimal(-p.amount_cents, account.currency) if p.amount_cents < 0 else "",
                    firm_decimal(balance, account.currency),
                ]
                for p, balance in selectors.running_rows(
                    opening, postings.iterator(chunk_size=2000), account.sign
                )
            ),
        )
    page = Paginator(postings, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(selectors.running_rows(opening, page.object_list, account.sign))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "ledger/account_ledger.html",
        {
            "account": account,
            "form": form,
            "opening": opening,
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "date_from": date_from,
        },
    )


@capability_required("ledger.view")
def trial_balance(request: HttpRequest) -> HttpResponse:
    form = AsOfForm(request.GET or None)
    as_of = None
    if form.is_bound and form.is_valid():
        as_of = form.cleaned_data["as_of"]
    tb = selectors.trial_balance(as_of=as_of)
    currency = firm_get().currency
    if _wants_csv(request):
        label = as_of.isoformat() if as_of else "current"
        rows: list[list[Any]] = [
            [
                r.account.code,
                r.account.name,
                firm_decimal(r.debit_cents, currency) if r.debit_cents else "",
                firm_decimal(r.credit_cents, currency) if r.credit_cents else "",
            ]
            for r in tb.rows
        ]
        rows.append(
            [
                "",
                "Total",
                firm_decimal(tb.total_debit_cents, currency),
                firm_decimal(tb.total_credit_cents, currency),
            ]
        )
        return _csv(f"trial-balance-{label}.csv", ["code", "account", "debit", "credit"], rows)
    return render(
        request, "ledger/trial_balance.html", {"tb": tb, "form": form, "currency": currency}
    )


@capability_required("ledger.view")
def entry_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        entry = selectors.entry_get(entry_id=entry_id)
    except JournalEntry.DoesNotExist as exc:
        raise Http404("No such entry") from exc
    postings = list(selectors.entry_postings(entry=entry))
    if _wants_csv(request):
        return _csv(
            f"entry-{entry.pk}.csv",
            ["entry", "date", "kind", "account", "client", "matter", "invoice", "debit", "credit"],
            (
                [
                    f"JE-{entry.pk}",
                    entry.entry_date.isoformat(),
                    entry.kind,
                    p.account.code,
                    p.client.name if p.client else "",
                    p.matter.number if p.matter else "",
                    str(p.invoice) if p.invoice else "",
                    firm_decimal(p.amount_cents, entry.currency) if p.amount_cents > 0 else "",
                    firm_decimal(-p.amount_cents, entry.currency) if p.amount_cents < 0 else "",
                ]
                for p in postings
            ),
        )
    return render(
        request,
        "ledger/entry_detail.html",
        {
            "entry": entry,
            "postings": postings,
            "reversed_by": selectors.entry_reversed_by(entry=entry),
            "total_debit": sum(p.amount_cents for p in postings if p.amount_cents > 0),
            "total_credit": -sum(p.amount_cents for p in postings if p.amount_cents < 0),
        },
    )


@capability_required("ledger.view")
def trust_ledgers(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.client_trust_balances())
    currency = firm_get().currency
    if _wants_csv(request):
        return _csv(
            "client-trust-balances.csv",
            ["client", "matter", "held"],
            (
                [r.client.name, r.matter.number, firm_decimal(-r.balance_cents, currency)]
                for r in rows
            ),
        )
    return render(
        request,
        "ledger/trust_ledgers.html",
        {
            "rows": rows,
            "total": sum(-r.balance_cents for r in rows),
            "trust_bank": selectors.trust_bank_total(),
            "currency": currency,
        },
    )


@capability_required("ledger.view")
def client_trust_ledger(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=client_id)
    matters = Matter.objects.filter(client=client).order_by("number", "id")
    matter = None
    if request.GET.get("matter"):
        matter = get_object_or_404(Matter, pk=request.GET["matter"], client=client)
    form = DateRangeForm(request.GET or None)
    date_from = date_to = None
    if form.is_bound and form.is_valid():
        date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    opening, postings = selectors.client_trust_ledger(
        client=client, matter=matter, date_from=date_from, date_to=date_to
    )
    currency = firm_get().currency
    sign = -1  # client trust liability is credit-normal: money held shows positive
    if _wants_csv(request):
        return _csv(
            f"trust-ledger-client-{client.pk}.csv",
            [
                "date",
                "entry",
                "kind",
                "memo",
                "matter",
                "invoice",
                "received",
                "paid out",
                "balance",
            ],
            (
                [
                    p.entry_date.isoformat(),
                    f"JE-{p.entry_id}",
                    p.entry.kind,
                    p.entry.memo,
                    p.matter.number if p.matter else "",
                    str(p.invoice) if p.invoice else "",
                    firm_decimal(-p.amount_cents, currency) if p.amount_cents < 0 else "",
                    firm_decimal(p.amount_cents, currency) if p.amount_cents > 0 else "",
                    firm_decimal(balance, currency),
                ]
                for p, balance in selectors.running_rows(
                    opening, postings.iterator(chunk_size=2000), sign
                )
            ),
        )
    page = Paginator(postings, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(selectors.running_rows(opening, page.object_list, sign))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "ledger/client_trust_ledger.html",
        {
            "client": client,
            "matters": matters,
            "matter": matter,
            "form": form,
            "opening": opening,
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "date_from": date_from,
            "currency": currency,
        },
    )
