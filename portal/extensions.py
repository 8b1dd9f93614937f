"""The Flask extensions, created once and bound to the app in register_extensions()."""

import hashlib
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, current_app
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from limits import parse_many, strategies
from limits.storage import Storage, storage_from_string
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    # No template reads current_user; its context processor would load the user for every page.
    login_manager.init_app(app, add_context_processor=False)
    # Each app gets its own storage: two apps in one process (tests, or two portals) share a
    # count only through a shared storage URI.
    app.extensions[RATE_LIMITER] = RateLimiter.from_config(app.config)


def register_migrations(app: Flask) -> None:
    """Flask-Migrate for the commands that change the schema (`flask db`, `init-db`) and tests.

    Imported only there: it brings Alembic, several MB in every web worker that never uses it.
    """
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)


@dataclass(frozen=True)
class RateLimiter:
    """The `limits` library's storage and strategy behind every RateLimit of one app.

    `limits` directly rather than Flask-Limiter: the doors count only what they choose (failed
    log-ins, say) and refuse in their own words.
    """

    enabled: bool
    storage: Storage
    limiter: strategies.RateLimiter

    @classmethod
    def from_config(cls, config: Mapping) -> "RateLimiter":
        storage = storage_from_string(
            config["RATELIMIT_STORAGE_URI"], **config.get("RATELIMIT_STORAGE_OPTIONS", {})
        )
        if not isinstance(storage, Storage):
            raise ValueError("RATELIMIT_STORAGE_URI names an asynchronous storage; use a sync one")
        strategy = strategies.STRATEGIES[config["RATELIMIT_STRATEGY"]]
        return cls(bool(config["RATELIMIT_ENABLED"]), storage, strategy(storage))


RATE_LIMITER = "portal.rate_limiter"
log = logging.getLogger(__name__)


class RateLimit:
    """A limit named in the configuration (e.g. "5 per minute; 30 per hour"), counted per identity.

    The doors count what they choose (failures only, for logins) and refuse in their own words.
    """

    def __init__(self, setting: str):
        self.setting = setting

    def count(self, identity: str) -> bool:
        """Count one event; False when that went over any of the limits."""
        return self._apply(identity, lambda limiter, item, key: limiter.hit(item, *key), True)

    def allows(self, identity: str) -> bool:
        """Whether one more event would stay within every limit; counts nothing."""
        return self._apply(identity, lambda limiter, item, key: limiter.test(item, *key), True)

    def blocked_for(self, identity: str) -> int | None:
        """Seconds until the identity may try again, or None while the limits have room."""

        def seconds_left(limiter, item, key):
            if limiter.test(item, *key):
                return None
            return max(1, math.ceil(limiter.get_window_stats(item, *key).reset_time - time.time()))

        return self._apply(identity, seconds_left, None, combine=_longest_wait)

    def _apply(self, identity, action, when_off, combine=all):
        limiter = current_app.extensions[RATE_LIMITER]
        if not limiter.enabled or not identity:
            return when_off
        # Keys hold a digest, so the storage never keeps addresses or email addresses.
        key = (
            current_app.config.get("RATELIMIT_KEY_PREFIX", ""),
            self.setting,
            hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32],
        )
        items = parse_many(current_app.config[self.setting])
        try:
            return combine([action(limiter.limiter, item, key) for item in items])
        except Exception:
            if not current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
                raise
            # The storage is down: let people in rather than refuse everybody.
            log.exception("Rate limit %s could not be checked; allowing the request", self.setting)
            return when_off


def wait_in_words(seconds: int | None) -> str:
    """A wait as a refusal message says it: "a minute", "5 minutes", "2 hours"."""
    minutes = max(1, math.ceil((seconds or 60) / 60))
    if minutes < 90:
        return "a minute" if minutes == 1 else f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


def longest_wait(*checks: tuple[RateLimit, str]) -> int | None:
    """Seconds until none of these (limit, identity) pairs refuses any more, or None."""
    return _longest_wait([limit.blocked_for(identity) for limit, identity in checks])


def _longest_wait(waits) -> int | None:
    known = [wait for wait in waits if wait is not None]
    return max(known) if known else None


@event.listens_for(Engine, "connect")
def tune_sqlite(dbapi_connection, connection_record) -> None:
    """WAL lets readers run beside a writer; busy_timeout makes writers wait instead of failing."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "savepoint")
def begin_before_a_first_savepoint(connection, name) -> None:
    """Open SQLite's transaction before a SAVEPOINT that would otherwise be the outermost.

    Python's sqlite3 begins a transaction only before INSERT, UPDATE or DELETE. A SAVEPOINT sent
    first would begin one itself, and its RELEASE would then commit: a ticket numbered in a
    savepoint would be saved even when the request's transaction is rolled back.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if type(dbapi_connection).__module__ != "sqlite3" or dbapi_connection.in_transaction:
        return
    if dbapi_connection.isolation_level is None:
        return  # autocommit was asked for: nobody would commit what BEGIN opens
    # Savepoints are only used around writes; IMMEDIATE takes the write lock now, waiting up to
    # busy_timeout. A deferred BEGIN would fail at once ("database is locked") if anything read
    # between it and the first write while another connection committed.
    dbapi_connection.execute("BEGIN IMMEDIATE")
