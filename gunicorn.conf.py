"""gunicorn settings for production; see README "Deployment". Each can be overridden on the CLI."""

import multiprocessing
import os

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 120  # a 64 MB upload on a slow line must not be cut off
graceful_timeout = 30
max_requests = 10000
max_requests_jitter = 1000
accesslog = "-"
forwarded_allow_ips = os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1")
