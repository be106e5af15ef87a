"""Users for `make loadtest` (bench/loadtest.py runs locust headless with these classes).

BaselineUser asks for the minimal view (``/_baseline/``) only; StaffUser (a partner) and
ClientUser (the client portal) use the demo firm's users' sessions and walk the pages people use
most, plus the API's reads with the session (a redirect, e.g. to the login, is an error). No
waiting between requests: the measure is throughput at a fixed number of concurrent users."""

from __future__ import annotations

import os
from typing import Any

from locust import HttpUser, constant, task

# bench/loadtest.py signs each demo user in once before the run (an Argon2 check per simulated
# user would measure password hashing, not the pages) and hands the session cookies over here.
SESSIONS = {
    "partner": os.environ.get("LOADTEST_SESSION_PARTNER", ""),
    "client": os.environ.get("LOADTEST_SESSION_CLIENT", ""),
}


class BaselineUser(HttpUser):
    wait_time = constant(0)

    @task
    def baseline(self) -> None:
        self.client.get("/_baseline/", name="baseline")


class _SignedIn(HttpUser):
    abstract = True
    username = ""
    wait_time = constant(0)

    def on_start(self) -> None:
        self.client.cookies.set("sessionid", SESSIONS[self.username])

    def page(self, path: str, **kwargs: Any) -> None:
        with self.client.get(
            path, name=path, catch_response=True, allow_redirects=False, **kwargs
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
    def api_me(self) -> None:
        self.page("/api/v1/me")


class ClientUser(_SignedIn):
    weight = 1
    username = "client"

    @task
    def home(self) -> None:
        # A client's home is the portal: "/" answers them with a redirect there (core.home's
        # landing), which page() rightly counts as an error.
        self.page("/portal/")
