"""gunicorn settings for production; see README "Deployment". Each can be overridden on the CLI.

    gunicorn --config gunicorn.conf.py 'portal:create_app()'

Sync workers handle one request each, so put a buffering reverse proxy (nginx, Caddy) in
front: it absorbs slow clients and slow uploads, and the workers only see whole requests.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
# Each request spends part of its time waiting on the database, so two per core keep the
# cores busy; with SQLite, writers queue on one lock and more workers add nothing.
workers = int(os.environ.get("PORTAL_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 120  # a 64 MB upload on a slow line must not be cut off
graceful_timeout = 30
# Recycles workers now and then, so that a slow leak in a library never grows without bound.
max_requests = 10000
max_requests_jitter = 1000
# "-" is stdout; an empty PORTAL_ACCESS_LOG turns the access log off (the proxy keeps one).
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
