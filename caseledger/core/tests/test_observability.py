"""Health, readiness, metrics, request ids in responses, logs and audit events (issue 20)."""

from __future__ import annotations

import json
import logging

import pytest
from django.db.migrations.recorder import MigrationRecorder

from caseledger.core import audit, observability
from caseledger.core.choices import OutboxStatus
from caseledger.core.context import current_request_id
from caseledger.core.logs import JsonFormatter, RequestIdFilter
from caseledger.core.models import AuditEvent, Firm, OutboxMessage

PASSWORD = "correct horse battery staple"
TOKEN = "metrics-token-0123456789abcdef"

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_the_database_or_a_valid_host(
    client, django_assert_num_queries, settings
):
    settings.ALLOWED_HOSTS = ["billing.example-law.com"]
    with django_assert_num_queries(0):
        r = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert r.status_code == 200
    assert r.json() == {"status": "alive"}


def test_readyz_reports_each_check_and_refuses_with_a_missing_migration(client, monkeypatch):
    monkeypatch.setattr(observability, "_migrations_applied", False)
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "queue": "ok"},
    }
    # The record of one applied migration disappears: the process is not ready for traffic.
    monkeypatch.setattr(observability, "_migrations_applied", False)
    from django.db.migrations.loader import MigrationLoader

    (latest,) = MigrationLoader(None).graph.leaf_nodes("core")  # core's newest migration
    MigrationRecorder.Migration.objects.filter(app="core", name=latest[1]).delete()
    r = client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not ready"
    assert body["checks"]["migrations"] == f"1 migration(s) not applied: core.{latest[1]}"
    assert body["checks"]["database"] == "ok"


def test_readyz_cached_after_success_costs_one_query(client, django_assert_num_queries):
    client.get("/readyz")
    with django_assert_num_queries(1):  # SELECT 1 (the queue is huey's own storage)
        assert client.get("/readyz").status_code == 200


def test_metrics_need_the_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    r = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token-0123456789abcdef")
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Bearer")


def _metric(text: str, prefix: str) -> float:
    lines = [ln for ln in text.splitlines() if ln.startswith(prefix)]
    assert lines, f"no sample starting {prefix!r} in:\n{text}"
    return float(lines[0].rsplit(" ", 1)[1])


def test_metrics_report_latency_by_route_outbox_backlog_and_jobs(
    client, settings, login, users, now
):
    settings.METRICS_TOKEN = TOKEN
    login(users["PARTNER"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    before = client.get("/metrics", **auth).content.decode()
    route = 'method="GET",route="/clients/"'
    count_before = (
        _metric(before, f"caseledger_request_duration_seconds_count{{{route}}}")
        if f"caseledger_request_duration_seconds_count{{{route}}}" in before
        else 0.0
    )
    assert client.get("/clients/").status_code == 200
    assert client.get("/").status_code == 200
    for status in (OutboxStatus.PENDING, OutboxStatus.DEAD, OutboxStatus.DEAD):
        OutboxMessage.objects.create(
            key=f"metrics.test:{OutboxMessage.objects.count()}",
            kind="metrics.test",
            to=["client@example.com"],
            subject="Metrics",
            body="",
            message_id=f"<metrics{OutboxMessage.objects.count()}@caseledger.host>",
            status=status,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    r = client.get("/metrics", **auth)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/plain")
    text = r.content.decode()
    assert _metric(text, f"caseledger_request_duration_seconds_count{{{route}}}") == (
        count_before + 1
    )
    assert 'caseledger_requests_total{method="GET",route="/clients/",status="2xx"}' in text
    assert 'caseledger_requests_total{method="GET",route="/",status="2xx"}' in text
    assert _metric(text, 'caseledger_outbox_backlog{status="PENDING"}') == 1
    assert _metric(text, 'caseledger_outbox_backlog{status="DEAD"}') == 2
    assert _metric(text, 'caseledger_job_queue_depth{queue="pending"}') >= 0
    assert "# TYPE caseledger_reconciliation_age_seconds gauge" in text


def test_request_id_is_answered_and_a_callers_plain_id_kept(client):
    r = client.get("/login/")
    generated = r["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/login/", HTTP_X_REQUEST_ID="edge-7f3a9c21").get("X-Request-ID") == (
        "edge-7f3a9c21"
    )
    injected = client.get("/login/", HTTP_X_REQUEST_ID='x" onload="1')["X-Request-ID"]
    assert injected != 'x" onload="1'
    assert len(injected) == 32


def test_audit_event_carries_the_request_id_and_the_chain_verifies(client, make_user):
    Firm.objects.update(two_factor_enforced=False)
    make_user(role="PARTNER", username="pat")
    r = client.post(
        "/login/",
        {"username": "pat", "password": PASSWORD},
        HTTP_X_REQUEST_ID="req-login-000001",
    )
    assert r.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert event.request_id == "req-login-000001"
    assert audit.verify_chain() is None


def test_request_id_is_signed_with_the_event(make_user, now):
    user = make_user()
    token = current_request_id.set("req-signed-000001")
    try:
        audit.record(actor=user, action="test.signed", at=now, obj=user)
    finally:
        current_request_id.reset(token)
    assert audit.verify_chain() is None
    event = AuditEvent.objects.get(action="test.signed")
    # Recomputing the HMAC with another request id does not give the stored hash.
    key = audit.key_for(event.key_id)
    assert key is not None
    fields = {
        f: getattr(event, f)
        for f in (
            "key_id",
            "prev_hash",
            "at",
            "actor_id",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
            "ip",
        )
    }
    assert audit.event_hash(key=key, request_id="req-signed-000001", **fields) == event.hash
    assert audit.event_hash(key=key, request_id="req-other-0000001", **fields) != event.hash


def test_json_log_line_has_the_request_id_and_extra_fields():
    record = logging.LogRecord(
        "caseledger.access", logging.INFO, __file__, 1, "GET %s", ("/",), None
    )
    record.route = "/clients/"
    token = current_request_id.set("req-log-00000001")
    try:
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        current_request_id.reset(token)
    assert line["request_id"] == "req-log-00000001"
    assert line["message"] == "GET /"
    assert line["route"] == "/clients/"
    assert line["level"] == "INFO"
    assert line["logger"] == "caseledger.access"
