"""Operating the served stack: request ids, access log lines, health, readiness and metrics.

``ObservabilityMiddleware`` is the first middleware. It answers three paths itself, before the
host check, the HTTPS redirect, sessions or the firm lookup run (a probe on loopback must not
need a valid Host header, TLS or a database session):

- ``/healthz``: 200 while the process answers (no database);
- ``/readyz``: 200 when the database answers, every migration is applied and the job queue is
  reachable, else 503 naming the failing check;
- ``/metrics``: Prometheus text format, only with ``Authorization: Bearer
  $CASELEDGER_METRICS_TOKEN`` (404 when no token is configured, 401 with a wrong one).

For every other request it takes the caller's ``X-Request-ID`` (when it is a plain token) or
makes one, keeps it in ``core.context.current_request_id`` (audit events and every log line of
the request carry it), answers it back in ``X-Request-ID``, and records the request's latency
by route (the URL pattern, not the path: a bounded label set) and one access log line.

Metrics of several gunicorn workers and the huey consumer are added up through
prometheus_client's multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set (``make serve``
sets it); without it each process reports its own.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from caseledger.core.context import current_request_id

logger = logging.getLogger("caseledger.access")

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only when it is a plain token (no spaces, quotes or control characters
# can reach a log line or the audit table through it).
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

REQUEST_LATENCY = Histogram(
    "caseledger_request_duration_seconds",
    "Time to answer a request, by route (URL pattern) and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter(
    "caseledger_requests_total",
    "Requests answered, by route, method and status class (2xx, 4xx, 5xx...).",
    ["route", "method", "status"],
)
JOBS = Counter(
    "caseledger_jobs_total",
    "Background jobs run by the huey consumer, by task and outcome.",
    ["task", "outcome"],
)


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is acceptable, else a new random one."""
    if header and _REQUEST_ID_OK.match(header):
        return header
    return uuid.uuid4().hex


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered (``billing/invoices/<int:pk>/``), or ``unmatched``."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.route is None:
        return "unmatched"
    return "/" + match.route


class ObservabilityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path == HEALTH_PATH:
            return JsonResponse({"status": "alive"})
        if path == READY_PATH:
            return readiness_response()
        if path == METRICS_PATH:
            return metrics_response(request)
        rid = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        token = current_request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        elapsed = time.perf_counter() - started
        response[REQUEST_ID_HEADER] = rid
        if not path.startswith(settings.STATIC_URL):
            route = route_of(request)
            REQUEST_LATENCY.labels(route, request.method or "").observe(elapsed)
            REQUESTS.labels(route, request.method or "", f"{response.status_code // 100}xx").inc()
        logger.info(
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "request_id": rid,
                "method": request.method,
                "path": path,
                "route": route_of(request),
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                "user_id": _user_id(request),
            },
        )
        return response


def _user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return int(user.pk)
    return None


# Readiness ------------------------------------------------------------------------------------

_migrations_applied = False


def check_database() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return "ok"


def check_migrations() -> str:
    """'ok' when no migration is left to apply. Reading the migration graph costs tens of
    milliseconds, so a process that has seen it complete does not read it again (a deployment
    migrates before it restarts the web processes)."""
    global _migrations_applied
    if _migrations_applied:
        return "ok"
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:3])
        return f"{len(plan)} migration(s) not applied: {names}"
    _migrations_applied = True
    return "ok"


def check_queue() -> str:
    from huey.contrib.djhuey import HUEY

    HUEY.pending_count()
    return "ok"


READINESS_CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "migrations": check_migrations,
    "queue": check_queue,
}


def readiness() -> dict[str, str]:
    """Each check's verdict: 'ok' or what is wrong (the exception's class and message)."""
    results: dict[str, str] = {}
    for name, check in READINESS_CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # a probe reports every failure, whatever its kind
            results[name] = f"{type(exc).__name__}: {exc}"[:300]
    return results


def readiness_response() -> HttpResponse:
    checks = readiness()
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


# Metrics --------------------------------------------------------------------------------------


class StateCollector(Collector):
    """Gauges read from the database and the queue at scrape time (cheap aggregate queries):
    the job queue's depth, the outbox backlog by status, and each ``settings.METRICS_GAUGES``
    entry (name -> (help, dotted path of a function returning [(labels, value)]), so apps above
    core add theirs without core importing them)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from huey.contrib.djhuey import HUEY

        from caseledger.core.choices import OutboxStatus
        from caseledger.core.models import OutboxMessage

        depth = GaugeMetricFamily(
            "caseledger_job_queue_depth", "Jobs waiting in the huey queue.", labels=["queue"]
        )
        try:
            depth.add_metric(["pending"], float(HUEY.pending_count()))
            depth.add_metric(["scheduled"], float(HUEY.scheduled_count()))
        except Exception:  # an unreachable queue shows as a missing sample, and in /readyz
            logger.warning("metrics: the job queue did not answer", exc_info=True)
        yield depth

        backlog = GaugeMetricFamily(
            "caseledger_outbox_backlog",
            "Outbox messages not yet sent, by status (DEAD: gave up, needs a person).",
            labels=["status"],
        )
        counts = dict(
            OutboxMessage.objects.exclude(status=OutboxStatus.SENT)
            .order_by()
            .values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        for status in ("PENDING", "SENDING", "FAILED", "DEAD"):
            backlog.add_metric([status], float(counts.get(status, 0)))
        yield backlog

        gauges: dict[str, tuple[str, str]] = getattr(settings, "METRICS_GAUGES", {})
        for name, (help_text, path) in gauges.items():
            rows: Iterable[tuple[dict[str, str], float]] = import_string(path)()
            rows = list(rows)
            label_names = sorted({k for labels, _ in rows for k in labels})
            family = GaugeMetricFamily(name, help_text, labels=label_names)
            for labels, value in rows:
                family.add_metric([labels.get(k, "") for k in label_names], value)
            yield family


def metrics_registry() -> CollectorRegistry:
    """The registry a scrape renders: every process's counters (multiprocess mode) or this
    process's, plus the state gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(StateCollector())
        return registry
    return _DefaultPlusState()


class _DefaultPlusState(CollectorRegistry):
    """Single-process scrape: the default registry's metrics and the state gauges."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()
        yield from StateCollector().collect()


def metrics_response(request: HttpRequest) -> HttpResponse:
    token: str = getattr(settings, "METRICS_TOKEN", "")
    if not token:
        return JsonResponse(
            {"error": "metrics are off: set CASELEDGER_METRICS_TOKEN to serve them"}, status=404
        )
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = JsonResponse({"error": "a valid metrics token is required"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = generate_latest(metrics_registry())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


# Jobs -----------------------------------------------------------------------------------------


def connect_job_signals() -> None:
    """Count every job's outcome and give its run a request id (``job-<task id>``), so audit
    events a job records and its log lines name the run. Called from CoreConfig.ready."""
    from huey import signals
    from huey.contrib.djhuey import HUEY

    tokens: dict[str, Any] = {}

    @HUEY.signal(signals.SIGNAL_EXECUTING)
    def _executing(signal: str, task: Any, *args: Any) -> None:
        tokens[task.id] = current_request_id.set(f"job-{task.id}")

    @HUEY.signal(
        signals.SIGNAL_COMPLETE,
        signals.SIGNAL_ERROR,
        signals.SIGNAL_RETRYING,
        signals.SIGNAL_CANCELED,
        signals.SIGNAL_EXPIRED,
    )
    def _finished(signal: str, task: Any, *args: Any) -> None:
        JOBS.labels(task.name, signal).inc()
        token = tokens.pop(task.id, None)
        if token is not None:
            try:
                current_request_id.reset(token)
            except ValueError:  # set in another thread's context: nothing to undo here
                current_request_id.set("")
