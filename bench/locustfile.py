"""Users for `make loadtest` (bench/loadtest.py runs locust headless with these classes).

BaselineUser asks for the minimal view (``/_baseline/``) only; StaffUser (a partner) and
ClientUser (the client portal) sign in as the demo firm's users and walk the pages people use
most, plus the API's reads with the session. No waiting between requests: the measure is
throughput at a fixed number of concurrent users."""

from __future__ import annotations

from typing import Any

from locust import HttpUser, constant, task

PASSWORD = "caseledger-demo"


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
        self.client.get("/login/", name="login")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/login/"},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                r.failure(f"login as {self.username}: {r.status_code}")

    def page(self, path: str, **kwargs: Any) -> None:
        with self.client.get(path, name=path, catch_response=True, **kwargs) as r:
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
        self.page("/")
