"""Delivery right after a commit, in the web process, so that one machine needs no mail worker.

The core marks in `session.info` that it queued mail; when that session commits, this module
wakes a background thread of the current app, which delivers due rows in batches until none is
left. The request that opened the ticket never waits for the mail server: a slow or dead server
holds up that thread, not a response, and a failure leaves the row pending for `flask
send-mail` or the next commit's round. Doors need do nothing beyond committing.
"""

import logging
import os
import threading
import time
from dataclasses import replace

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction

from portal.mail.delivery import DeliverySettings, deliver_due
from portal.mail.outbox import QUEUED_KEY

log = logging.getLogger(__name__)

EXTENSION = "portal_mail"


class Relay:
    """Delivers one app's due rows from a background thread, a batch at a time."""

    # After an unreachable server, leave delivery to the worker for this long instead of
    # making every new ticket's attempt wait out the timeout.
    backoff_seconds = 60.0
    # An idle thread ends after this long; a process that exits waits at most this for it.
    linger_seconds = 1.0
    # Woken by a commit, the thread waits this long before it claims, so that the commits of a
    # busy moment go out as one batch (one claim and one record) rather than one by one.
    gather_seconds = 0.2

    def __init__(self, settings: DeliverySettings, *, enabled: bool = True) -> None:
        self.settings = settings
        self.enabled = enabled
        self._quiet_until = 0.0
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._changed = threading.Condition()
        self._pending: set[Engine] = set()
        self._busy = False
        self._thread: threading.Thread | None = None

    def deliver_soon(self, engine: Engine) -> None:
        """Deliver the engine's due rows in the background thread, unless backing off."""
        if not self.enabled or time.monotonic() < self._quiet_until:
            return
        if self._pid != os.getpid():
            self._reset()  # a forked child has none of its parent's threads
        with self._changed:
            self._pending.add(engine)
            if self._thread is None:
                # Not a daemon: an exiting process lets the attempt finish (bounded by the
                # timeout) rather than cut it between sending and recording.
                self._thread = threading.Thread(target=self._run, name="portal-mail-after-commit")
                self._thread.start()
            else:
                self._changed.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until everything handed over has been attempted; True when nothing is left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._pending or self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def _run(self) -> None:
        while True:
            with self._changed:
                if not self._pending:
                    self._changed.wait(self.linger_seconds)
                if not self._pending:
                    self._thread = None
                    self._changed.notify_all()
                    return
                engines, self._pending = self._pending, set()
                self._busy = True
            try:
                for engine in engines:
                    self._deliver(engine)
            except Exception:
                log.exception("After-commit mail delivery failed; the worker will retry")
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()

    def _deliver(self, engine: Engine) -> None:
        time.sleep(self.gather_seconds)
        while time.monotonic() >= self._quiet_until:
            report = deliver_due(engine, self.settings)
            if report.unreachable:
                self._quiet_until = time.monotonic() + self.backoff_seconds
            if report.claimed < self.settings.batch_size:
                return


def register_mail(app: Flask) -> None:
    """Give the app its after-commit relay, configured from MAIL_* settings."""
    settings = DeliverySettings.from_config(app.config)
    settings = replace(settings, timeout=float(app.config.get("MAIL_AFTER_COMMIT_TIMEOUT", 5)))
    enabled = app.config.get("MAIL_DELIVER_AFTER_COMMIT", True)
    if isinstance(enabled, str):
        enabled = enabled.strip().lower() in {"1", "true", "yes", "on"}
    app.extensions[EXTENSION] = Relay(settings, enabled=bool(enabled))


def relay_of(app: Flask) -> Relay | None:
    return app.extensions.get(EXTENSION)


@event.listens_for(Session, "after_commit")
def _deliver_committed(session: Session) -> None:
    # Releasing a savepoint fires after_commit too; its rows are not committed yet.
    if session.in_nested_transaction() or not session.info.pop(QUEUED_KEY, False):
        return
    if not has_app_context():
        return
    relay = relay_of(current_app)
    bind = session.get_bind()
    if relay is not None:
        relay.deliver_soon(bind if isinstance(bind, Engine) else bind.engine)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # A rollback or close of the outermost transaction drops what it queued: nothing to send.
    if transaction.parent is None:
        session.info.pop(QUEUED_KEY, None)
