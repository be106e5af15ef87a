"""Users for `make loadtest` (bench/loadtest.py runs locust headless with these classes).

BaselineUser asks for the minimal view (``/_baseline/``) only; StaffUser (a partner) and
ClientUser (the client portal) use the demo firm's users' sessions and walk the pages people use
most, plus the API's reads with the session (a redirect, e.g. to the login, is an error);
WriterUser posts through the API with a token of its own (the API's rate limit is per token):
payments with an ``Idempotency-Key`` (one in five sent twice, the replay must answer the same
payment) and stage advances, on the generated firm's open invoices and matters
(bench/loadtest_prep.py writes those targets; each is used once per run). No waiting between
requests in the throughput run (the measure is throughput at a fixed number of concurrent
users); in the paced run (``LOADTEST_THINK``) each waits a few seconds between requests, as
people do, and the measure is the latency those users see."""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, constant, task

# bench/loadtest.py signs each demo user in once before the run (an Argon2 check per simulated
# user would measure password hashing, not the pages) and hands the session cookies over here.
SESSIONS = {
    "partner": os.environ.get("LOADTEST_SESSION_PARTNER", ""),
    "client": os.environ.get("LOADTEST_SESSION_CLIENT", ""),
}
_TARGETS_FILE = os.environ.get("LOADTEST_TARGETS", "")
TARGETS: dict[str, Any] = json.loads(Path(_TARGETS_FILE).read_text()) if _TARGETS_FILE else {}
# Seconds a staff member, client or program waits between two requests: "LO-HI" (uniform) in
# the paced run (bench/loadtest.py ``--think``), none in the throughput run. The baseline never
# waits.
_THINK = os.environ.get("LOADTEST_THINK", "")
PACE = between(*map(float, _THINK.split("-", 1))) if _THINK else constant(0)
# Shared by the users of this locust process (greenlets): each target is taken once, and each
# step of the run (one locust process per user count) takes its own share of the targets.
_STEP = int(os.environ.get("LOADTEST_STEP", "0"))
_STEPS = int(os.environ.get("LOADTEST_STEPS", "1"))
_TOKENS = iter(TARGETS.get("tokens", []))
_PAY = iter(TARGETS.get("pay", [])[_STEP::_STEPS])
_ADVANCE = iter(TARGETS.get("advance", [])[_STEP::_STEPS])
_MATTERS = itertools.cycle(TARGETS.get("matters") or [0])


class BaselineUser(HttpUser):
    wait_time = constant(0)

    @task
    def baseline(self) -> None:
        self.client.get("/_baseline/", name="baseline")


class _SignedIn(HttpUser):
    abstract = True
    username = ""
    wait_time = PACE

    def on_start(self) -> None:
        self.client.cookies.set("sessionid", SESSIONS[self.username])

    def page(self, path: str, name: str = "", **kwargs: Any) -> None:
        with self.client.get(
            path, name=name or path, catch_response=True, allow_redirects=False, **kwargs
        ) as r:
            if r.status_code != 200:
                r.failure(f"{path}: {r.status_code}")


class StaffUser(_SignedIn):
    weight = 4
    username = "partner"

    @task(3)
    def home(self) -> None:
        self.page("/")

    @task(2)
    def invoices(self) -> None:
        self.page("/billing/invoices/")

    @task(2)
    def matters(self) -> None:
        self.page("/matters/")

    @task
    def clients(self) -> None:
        self.page("/clients/")

    @task
    def aging(self) -> None:
        self.page("/collections/aging/")

    @task
    def trust(self) -> None:
        self.page("/trust/")

    @task(2)
    def matter(self) -> None:
        matter = next(_MATTERS)
        if matter:
            self.page(f"/matters/{matter}/", name="/matters/[id]/")

    @task(2)
    def api_me(self) -> None:
        self.page("/api/v1/me")

    @task
    def api_invoices(self) -> None:
        self.page("/api/v1/billing/invoices?limit=20")

    @task
    def api_matters(self) -> None:
        self.page("/api/v1/matters?limit=20")


class ClientUser(_SignedIn):
    weight = 1
    username = "client"

    @task
    def home(self) -> None:
        # A client's home is the portal: "/" answers them with a redirect there (core.home's
        # landing), which page() rightly counts as an error.
        self.page("/portal/")

    @task
    def invoices(self) -> None:
        self.page("/portal/invoices/")

    @task
    def trust(self) -> None:
        self.page("/portal/trust/")


class WriterUser(HttpUser):
    """Programs writing through the API (a partner's tokens): payments and stage advances."""

    weight = 1
    wait_time = PACE

    def on_start(self) -> None:
        token = next(_TOKENS, "")
        self.client.headers["Authorization"] = f"Bearer {token}"
        self.last: tuple[str, dict[str, Any], int] | None = None

    def _post(self, path: str, name: str, body: dict[str, Any], key: str) -> Any:
        with self.client.post(
            path, name=name, json=body, headers={"Idempotency-Key": key}, catch_response=True
        ) as r:
            if r.status_code not in (200, 201):
                r.failure(f"{name}: {r.status_code} {r.text[:200]}")
                return None
            return r.json()

    @task(3)
    def payment(self) -> None:
        if self.last is not None and random.random() < 0.2:
            key, body, first_id = self.last
            again = self._post("/api/v1/payments", "POST /api/v1/payments (replay)", body, key)
            if again is not None and again["id"] != first_id:
                self.environment.events.request.fire(
                    request_type="CHECK",
                    name="idempotent replay",
                    response_time=0,
                    response_length=0,
                    exception=AssertionError(f"replay made payment {again['id']}"),
                )
            return
        target = next(_PAY, None)
        if target is None:
            return
        key = str(uuid.uuid4())
        body = {
            "client_id": target["client_id"],
            "method": "ACH",
            "payer": "Load test payer",
            "reference": key[:20],
            "received_date": TARGETS["today"],
            "amount_cents": 100,
            "allocations": [{"invoice_id": target["invoice_id"], "amount_cents": 100}],
        }
        made = self._post("/api/v1/payments", "POST /api/v1/payments", body, key)
        if made is not None:
            self.last = (key, body, made["id"])

    @task
    def advance(self) -> None:
        target = next(_ADVANCE, None)
        if target is None:
            return
        self._post(
            f"/api/v1/matters/{target['matter_id']}/advance",
            "POST /api/v1/matters/[id]/advance",
            {"stage": target["stage"], "note": "Load test"},
            str(uuid.uuid4()),
        )
