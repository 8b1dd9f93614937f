"""gunicorn settings for production; see docs/deployment.md. Each can be overridden on the CLI.

    gunicorn --config gunicorn.conf.py 'portal:create_app()'

Each worker serves PORTAL_THREADS requests at a time (4), so a few slow clients cannot hold up
the site; still put a buffering reverse proxy (nginx, Caddy) in front in production: it
absorbs slow clients and slow uploads, and the workers see whole requests.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
# Each request spends part of its time waiting on the database, so two per core keep the
# cores busy; with SQLite, writers queue on one lock and more workers add nothing.
workers = int(os.environ.get("PORTAL_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# Threads, not sync workers: a client that sends its request slowly holds one thread, and the
# worker's other threads go on serving; with sync workers a few slow clients froze the site.
worker_class = "gthread"
threads = int(os.environ.get("PORTAL_THREADS", 4))
timeout = 120  # a 64 MB upload on a slow line must not be cut off
graceful_timeout = 30
# Recycles workers now and then, so that a slow leak in a library never grows without bound.
max_requests = 10000
max_requests_jitter = 1000
# "-" is stdout; an empty PORTAL_ACCESS_LOG turns the access log off (the proxy keeps one).
# API credentials sent in a query string are written as [REDACTED]: the app, once loaded,
# redacts every log record of the worker, the access log's too (portal/log_redaction.py).
accesslog = os.environ.get("PORTAL_ACCESS_LOG", "-") or None
forwarded_allow_ips = os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl), so a
# second portal on the host would take it over and stopping either would remove it. Off unless
# PORTAL_CONTROL_SOCKET names this instance's own path.
control_socket = os.environ.get("PORTAL_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def post_worker_init(worker):
    # The app's objects (models, compiled templates, routes) live as long as the worker. Frozen
    # out of the cyclic collector's reach, its full passes stop walking them again and again.
    gc.freeze()
    warn_of_rate_limits_per_worker(worker)


def warn_of_rate_limits_per_worker(worker):
    """Say so when every worker counts rate limits on its own: each limit is then multiplied."""
    config = getattr(worker.wsgi, "config", {})
    storage = str(config.get("RATELIMIT_STORAGE_URI", ""))
    if worker.age == 1 and worker.cfg.workers > 1 and storage.startswith("memory://"):
        worker.log.warning(
            "Rate limits are counted in each worker's memory: with %d workers every limit lets "
            "%d times as much through. Set PORTAL_RATELIMIT_STORAGE_URI=redis://... so that "
            "the workers share one count (docs/deployment.md).",
            worker.cfg.workers,
            worker.cfg.workers,
        )
