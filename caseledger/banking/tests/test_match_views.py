"""The matching workbench, a line's page (match by hand, unmatch, resolve) and the matching API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from caseledger.banking.models import LineMatch
from caseledger.banking.parsers.base import ParsedLine
from caseledger.banking.tests.factories import (
    import_lines,
    operating_bank_account,
    operating_posting,
    trust_bank_account,
)
from caseledger.core.services import api_token_create
from caseledger.ledger import accounts as codes
from caseledger.ledger.selectors import account_balance

pytestmark = pytest.mark.django_db

D = date(2026, 10, 10)


def _setup(now: Any) -> tuple[Any, list[Any], list[Any]]:
    account = operating_bank_account(now)
    lines = import_lines(
        account,
        [
            ParsedLine(D, 4_200, "Wire", customer_reference="INV-2042"),
            ParsedLine(D, -300, "Check"),
            ParsedLine(D, -300, "Check"),
            ParsedLine(D, -1_500, "SERVICE FEE"),
        ],
        now,
    )
    postings = [
        operating_posting(4_200, D, "Payment of INV-2042", now),
        operating_posting(-300, D, "Check 1", now),
        operating_posting(-300, D - timedelta(days=1), "Check 2", now),
        operating_posting(-9_999, D - timedelta(days=80), "Check 3 to USCIS", now),
    ]
    return account, lines, postings


def test_workbench_shows_suggestions_and_accept_all(login: Any, users: Any, now: Any) -> None:
    account, lines, postings = _setup(now)
    client = login(users["BILLING"])
    page = client.get(f"/banking/accounts/{account.pk}/matching/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "reference INV-2042 · amount · same day" in html
    assert "Ambiguous: amount · 2 postings within 5 days" in html
    assert "Accept all 1 suggestion shown" in html
    assert "Check 3 to USCIS" in html  # stale (80 days)
    shown = f"{lines[0].pk}:{postings[0].pk}"
    r = client.post(f"/banking/accounts/{account.pk}/matching/accept/", {"shown": shown})
    assert r.status_code == 302
    assert LineMatch.objects.get().posting_id == postings[0].pk
    page = client.get(f"/banking/accounts/{account.pk}/matching/")
    assert "1 line matched." in page.content.decode()


def test_line_page_manual_match_unmatch_and_resolve(login: Any, users: Any, now: Any) -> None:
    account, lines, postings = _setup(now)
    client = login(users["BILLING"])
    url = f"/banking/lines/{lines[1].pk}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Match by hand" in page.content.decode()
    bad = client.post(url + "match/", {"postings": [postings[1].pk, postings[2].pk]})
    assert bad.status_code == 400
    assert "the postings sum to -$6.00; the line has -$3.00 left" in bad.content.decode()
    ok = client.post(url + "match/", {"postings": [postings[2].pk], "note": "cleared late"})
    assert ok.status_code == 302
    assert LineMatch.objects.get(line=lines[1]).reason == "matched by hand: cleared late"
    assert client.post(url + "unmatch/").status_code == 302
    assert not LineMatch.objects.exists()
    fee = f"/banking/lines/{lines[3].pk}/resolve/"
    assert client.post(fee, {"kind": "OPERATING_FEE"}).status_code == 302
    assert account_balance(code=codes.BANK_SERVICE_CHARGES) == 1_500
    assert LineMatch.objects.get(line=lines[3]).method == "resolved"


def test_trust_fee_page_offers_the_operating_transfer(login: Any, users: Any, now: Any) -> None:
    account = trust_bank_account(now)
    (line,) = import_lines(account, [ParsedLine(D, -2_500, "Wire fee")], now)
    client = login(users["BILLING"])
    page = client.get(f"/banking/lines/{line.pk}/").content.decode()
    assert "Bank fee charged to trust (replaced from operating)" in page
    r = client.post(f"/banking/lines/{line.pk}/resolve/", {"kind": "BANK_FEE"}, follow=True)
    assert "Now transfer $25.00 from the operating account to this trust account today" in (
        r.content.decode()
    )


def test_attorney_cannot_match(login: Any, users: Any, now: Any) -> None:
    account, lines, postings = _setup(now)
    client = login(users["ATTORNEY"])
    r = client.post(f"/banking/lines/{lines[1].pk}/match/", {"postings": [postings[1].pk]})
    assert r.status_code == 403
    assert not LineMatch.objects.exists()


def test_api_suggestions_accept_manual_and_unmatch(client: Any, users: Any, now: Any) -> None:
    account, lines, postings = _setup(now)
    _, secret = api_token_create(user=users["BILLING"], name="t", now=now)
    h = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    base = f"/api/v1/banking/accounts/{account.pk}"
    got = client.get(base + "/suggestions", **h).json()
    assert set(got) == {"count", "next", "results"}
    assert got["count"] == 3
    assert got["next"] is None
    by_line = {s["line_id"]: s for s in got["results"]}
    first = client.get(base + "/suggestions?limit=1", **h).json()
    assert first["count"] == 3
    assert len(first["results"]) == 1
    assert "offset=1" in first["next"]
    assert client.get(base + "/suggestions?limit=0", **h).status_code == 422
    assert by_line[lines[0].pk]["confident"] is True
    assert by_line[lines[0].pk]["reason"] == "reference INV-2042 · amount · same day"
    assert by_line[lines[1].pk]["confident"] is False
    r = client.post(
        base + "/matches", {"line_id": lines[0].pk}, content_type="application/json", **h
    )
    assert r.status_code == 201, r.content
    assert r.json()["matches"][0]["posting_id"] == postings[0].pk
    again = client.post(
        base + "/matches", {"line_id": lines[1].pk}, content_type="application/json", **h
    )
    assert again.status_code == 409
    assert "has no suggestion that can be accepted" in again.content.decode()
    manual = client.post(
        base + "/matches",
        {"line_id": lines[1].pk, "posting_ids": [postings[1].pk]},
        content_type="application/json",
        **h,
    )
    assert manual.status_code == 201
    assert manual.json()["matches"][0]["method"] == "manual"
    gone = client.delete(base + f"/matches/{lines[1].pk}", **h)
    assert gone.status_code == 200
    assert gone.json() == {"line_id": lines[1].pk, "removed": 1}
    assert LineMatch.objects.count() == 1


def test_api_several_lines_to_one_posting(client: Any, users: Any, now: Any) -> None:
    account, _lines, _postings = _setup(now)
    day = D
    a, b = import_lines(
        account,
        [ParsedLine(booking_date=day, amount_cents=c) for c in (7_000, 3_000)],
        now,
        statement_id="S-split",
    )
    posting = operating_posting(10_000, day, "Deposit split by the bank", now)
    _, secret = api_token_create(user=users["BILLING"], name="t", now=now)
    h = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    base = f"/api/v1/banking/accounts/{account.pk}"
    short = client.post(
        base + "/matches",
        {"line_ids": [a.pk], "posting_id": posting.pk},
        content_type="application/json",
        **h,
    )
    assert short.status_code == 409
    assert "at least two statement lines" in short.content.decode()
    r = client.post(
        base + "/matches",
        {"line_ids": [a.pk, b.pk], "posting_id": posting.pk},
        content_type="application/json",
        **h,
    )
    assert r.status_code == 201, r.content
    assert r.json()["accepted"] == 2
    assert sorted(m["line_id"] for m in r.json()["matches"]) == [a.pk, b.pk]
    assert LineMatch.objects.filter(posting=posting).count() == 2


def test_line_page_matches_a_split_deposit(login: Any, users: Any, now: Any) -> None:
    account, _lines, _postings = _setup(now)
    a, b = import_lines(
        account,
        [ParsedLine(D, 6_000, "Deposit part 1"), ParsedLine(D, 4_000, "Deposit part 2")],
        now,
        statement_id="S-split",
    )
    posting = operating_posting(10_000, D, "Deposit of two checks", now)
    client = login(users["BILLING"])
    page = client.get(f"/banking/lines/{a.pk}/").content.decode()
    assert 'id="split"' in page
    assert "Deposit of two checks" in page
    assert "Deposit part 2" in page
    bad = client.post(
        f"/banking/lines/{a.pk}/split/", {"posting": posting.pk, "lines": [_lines[0].pk]}
    )
    assert bad.status_code == 400  # a line of the other sum is not offered
    assert not LineMatch.objects.filter(posting=posting).exists()
    r = client.post(f"/banking/lines/{a.pk}/split/", {"posting": posting.pk, "lines": [b.pk]})
    assert r.status_code == 302
    assert sorted(LineMatch.objects.filter(posting=posting).values_list("line_id", flat=True)) == [
        a.pk,
        b.pk,
    ]
