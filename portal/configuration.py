"""Configuration: package defaults, then instance/config.py, then PORTAL_* variables, then tests."""

import os
from datetime import timedelta
from pathlib import Path

from flask import Flask

DEVELOPMENT_SECRET_KEY = "dev-insecure-change-me"


class Defaults:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = None  # filled in with instance/portal.sqlite3 when left unset
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Where attachment bytes live; relative paths are under the instance folder.
    ATTACHMENTS_DIR = "attachments"
    # Files of forms that came back with errors, kept until the form succeeds or they expire.
    HELD_UPLOADS_DIR = "held-uploads"
    HELD_UPLOADS_MAX_AGE = 24 * 3600
    ATTACHMENT_EXTENSIONS = ".jpg,.gif,.jpeg,.png,.txt,.pdf"
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    TICKET_MASK = "%A%A%A-%n%n%n%n%n%n"
    TIMEZONE = "UTC"
    BASE_URL = "http://127.0.0.1:5000"
    # None: Secure cookies exactly when BASE_URL is https.
    SESSION_COOKIE_SECURE = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; a form left open stays usable
    # The API (see README "HTTP API").
    API_ALLOWED_IPS = "127.0.0.1,::1"
    API_ACCESS_KEY = ""
    API_ALLOW_LEGACY_PASSWORD_AUTH = False
    # Number of reverse proxies whose X-Forwarded-For may be trusted; 0 trusts none.
    PROXY_COUNT = 0


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
    for key in ("ATTACHMENTS_DIR", "HELD_UPLOADS_DIR"):
        directory = Path(app.config[key])
        if not directory.is_absolute():
            directory = Path(app.instance_path) / directory
        app.config[key] = str(directory)
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]

    refuse_development_secret(app)


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
