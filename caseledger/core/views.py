from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from caseledger.core.selectors import firm_get


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"firm": firm_get()})
