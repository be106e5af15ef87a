"""gunicorn settings for ``make serve`` and the systemd unit in the README.

Workers: ``WEB_CONCURRENCY`` or 2 x cores + 1, each with ``GUNICORN_THREADS`` threads (default
4). The database pool (``config.db_pool``) divides ``CASELEDGER_DB_CONNECTIONS`` among the
same ``WEB_CONCURRENCY`` workers, so ``make serve`` exports it for both. The access log is the
application's own JSON line (core.observability), so gunicorn's is off.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any


def default_workers(cores: int | None = None) -> int:
    return 2 * (cores or multiprocessing.cpu_count()) + 1


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers())
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 60
graceful_timeout = 30
# Seconds an idle keep-alive connection stays open (gunicorn's default is 2). A client that waits
# longer between requests races the close: the load test's paced users (1-3 s apart) saw 17-21
# connection resets at 128 users while every request the server read was answered. Above the
# reverse proxy's own idle timeout (nginx 60-75 s, AWS ALB 60 s), so the proxy closes first;
# an idle connection holds no thread in gthread workers.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 75)
# Workers are not recycled unless GUNICORN_MAX_REQUESTS says so: a gthread worker that reaches
# max_requests resets the keep-alive connections it holds (gunicorn issue #3038, open), which the
# load test saw as connection errors whenever a worker restarted. A firm that wants recycling
# (e.g. against a library's slow leak) sets it; a reverse proxy retries the reset requests.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 0)
max_requests_jitter = max_requests // 10
accesslog = None
errorlog = "-"
# X-Forwarded-Proto is believed from these addresses only (the reverse proxy on the machine).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "caseledger"


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's gauges leave the Prometheus multiprocess files (counters stay summed)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
