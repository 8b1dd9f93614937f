"""Configuration: package defaults, then instance/config.py, then PORTAL_* variables, then tests."""

import os
from datetime import timedelta
from pathlib import Path

from flask import Flask

DEVELOPMENT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - refused outside development


class Defaults:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = None  # filled in with instance/portal.sqlite3 when left unset
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Connection pool of each worker process for PostgreSQL and MariaDB (SQLite keeps
    # SQLAlchemy's own choice). A worker holds one connection per busy thread, so the server
    # needs about workers x app servers x (DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW) at most.
    DATABASE_POOL_SIZE = 5
    DATABASE_MAX_OVERFLOW = 5
    # Below MariaDB's wait_timeout and the idle cut-off of most firewalls and proxies.
    DATABASE_POOL_RECYCLE = 1800
    # A connection dropped by a database restart or failover is replaced instead of failing.
    DATABASE_POOL_PRE_PING = True
    # Where attachment bytes live; relative paths are under the instance folder.
    ATTACHMENTS_DIR = "attachments"
    # Files of forms that came back with errors, kept until the form succeeds or they expire.
    HELD_UPLOADS_DIR = "held-uploads"
    HELD_UPLOADS_MAX_AGE = 24 * 3600
    # What forms that are never sent may leave there: files per draft, bytes per browser
    # session, bytes for all drafts together.
    HELD_UPLOADS_MAX_FILES_PER_DRAFT = 10
    HELD_UPLOADS_MAX_BYTES_PER_SESSION = 50 * 1024 * 1024
    HELD_UPLOADS_MAX_BYTES_TOTAL = 1024 * 1024 * 1024
    ATTACHMENT_EXTENSIONS = ".jpg,.gif,.jpeg,.png,.txt,.pdf"
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    TICKET_MASK = "%A%A%A-%n%n%n%n%n%n"
    # WHMCS's "Ticket Reply List Order": the conversation oldest first, or newest first.
    TICKET_REPLIES_NEWEST_FIRST = False
    TIMEZONE = "UTC"
    # The operator's brand (docs/configuration.md#brand): the name in the header, the page
    # titles and the emails; a logo, as a path on this site (another site's image is refused
    # by the Content-Security-Policy), or empty to use logo.svg, logo.png, logo.webp or
    # logo.jpg from the instance folder when there is one; the accent colour of links and
    # buttons as #rrggbb (empty: portal.css's blue), darkened or lightened as each colour
    # scheme needs for legible links.
    SITE_NAME = "Support portal"
    LOGO_URL = ""
    ACCENT_COLOR = ""
    BASE_URL = "http://127.0.0.1:5000"
    # None: Secure cookies exactly when BASE_URL is https.
    SESSION_COOKIE_SECURE = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # The token lives as long as the session, so a form left open for hours still submits.
    WTF_CSRF_TIME_LIMIT = None
    # The API (docs/api.md).
    API_ALLOWED_IPS = "127.0.0.1,::1"
    API_ACCESS_KEY = ""
    API_ALLOW_LEGACY_PASSWORD_AUTH = False
    # A portal extension: an API credential's secret may also be sent as its MD5 hex digest,
    # for clients that always hash the password (a 256-bit secret stays unguessable).
    API_ACCEPT_MD5_SECRET = True
    # Number of reverse proxies whose X-Forwarded-For may be trusted; 0 trusts none.
    PROXY_COUNT = 0
    # Rate limits (the `limits` library). One count per worker with memory://; point
    # RATELIMIT_STORAGE_URI at Redis (redis://host:6379/0) so that all workers share one.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STRATEGY = "moving-window"
    # With the storage down, requests are let through (and logged) rather than all refused.
    RATELIMIT_SWALLOW_ERRORS = True
    # Markdown previews of the compose forms, per client address.
    RATELIMIT_PREVIEWS_PER_IP = "120 per minute; 1200 per hour"
    # Replies sent from the client area's ticket pages, per client address.
    RATELIMIT_CLIENT_REPLIES_PER_IP = "30 per hour"
    # Files a form keeps for its next try, per client address.
    RATELIMIT_HELD_UPLOADS_PER_IP = "60 per hour"
    # Tickets sent through the guest form, per client address and per email address typed.
    RATELIMIT_GUEST_TICKETS_PER_IP = "5 per minute; 30 per hour"
    RATELIMIT_GUEST_TICKETS_PER_EMAIL = "10 per hour"
    # Failed client and staff log-ins, per address, and per email address or username tried from
    # one address: a stranger's guesses never lock the owner out (docs/security.md).
    RATELIMIT_LOGIN_FAILURES_PER_IP = "10 per minute; 50 per hour"
    RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT_AND_IP = "5 per minute; 20 per hour"
    # Refused API calls (authentication, access key, address), per address and per identifier.
    RATELIMIT_API_FAILURES_PER_IP = "10 per minute; 50 per hour"
    RATELIMIT_API_FAILURES_PER_IDENTIFIER = "5 per minute; 20 per hour"
    # Spam robots post the guest form at once; people take longer than this to fill it in.
    GUEST_FORM_MIN_SECONDS = 3
    # Email (docs/email.md). With no MAIL_SERVER, messages become .eml files in MAIL_EML_DIR.
    MAIL_SERVER = ""
    MAIL_PORT = None  # None: 465 with MAIL_USE_TLS, 587 with MAIL_USE_STARTTLS, otherwise 25
    MAIL_USE_STARTTLS = False
    MAIL_USE_TLS = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_TIMEOUT = 30
    # "Name <address>" for departments without an email address; empty: noreply@<BASE_URL host>.
    MAIL_DEFAULT_SENDER = ""
    MAIL_EML_DIR = "mail"
    # Seconds to wait before each retry; after the last one the message is marked failed.
    MAIL_RETRY_DELAYS = "60,300,900,3600,14400,43200"
    # A message claimed this long ago by a worker that never finished is claimed again.
    MAIL_CLAIM_TIMEOUT = 900
    MAIL_BATCH_SIZE = 20
    MAIL_WORKER_INTERVAL = 5
    # The web process tries each message once right after the commit, in a background thread.
    MAIL_DELIVER_AFTER_COMMIT = True
    MAIL_AFTER_COMMIT_TIMEOUT = 5


def load(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    if test_config is not None:
        app.config.from_mapping(test_config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        database = Path(app.instance_path) / "portal.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    for key in ("ATTACHMENTS_DIR", "HELD_UPLOADS_DIR", "MAIL_EML_DIR"):
        directory = Path(app.config[key])
        if not directory.is_absolute():
            directory = Path(app.instance_path) / directory
        app.config[key] = str(directory)
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]

    refuse_development_secret(app)


def engine_options(config: dict) -> dict:
    """SQLALCHEMY_ENGINE_OPTIONS with the pool settings added for server databases."""
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    if str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        return options
    pool = {
        "pool_size": int(config["DATABASE_POOL_SIZE"]),
        "max_overflow": int(config["DATABASE_MAX_OVERFLOW"]),
        "pool_recycle": int(config["DATABASE_POOL_RECYCLE"]),
        "pool_pre_ping": bool(config["DATABASE_POOL_PRE_PING"]),
    }
    # Options set explicitly in SQLALCHEMY_ENGINE_OPTIONS win.
    return {**pool, **options}


def refuse_development_secret(app: Flask) -> None:
    if app.config["SECRET_KEY"] != DEVELOPMENT_SECRET_KEY or app.debug or app.testing:
        return
    if os.environ.get("FLASK_DEBUG") == "1":
        return
    raise RuntimeError(
        "portal refuses to run outside debug and testing with the development secret key. "
        "Set one, e.g. export PORTAL_SECRET_KEY=\"$(python3 -c 'import secrets; "
        "print(secrets.token_hex(32))')\", or put SECRET_KEY = '...' in instance/config.py."
    )
