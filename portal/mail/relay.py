"""The in-process attempt right after a commit, so that one machine needs no mail worker.

open_ticket() notes the rows it queued in `session.info`; when that session commits, this
module hands their ids to a short-lived background thread of the current app. The request that
opened the ticket never waits for the mail server: a slow or dead server costs a thread, not a
response, and a failure leaves the row pending for `flask send-mail` (or the next commit's
thread, which also sweeps a batch of due rows). Doors need do nothing beyond committing.
"""

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import replace

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction

from portal.mail.delivery import DeliverySettings, deliver_due
from portal.mail.outbox import QUEUED_KEY

log = logging.getLogger(__name__)

EXTENSION = "portal_mail"


class Relay:
    """Runs after-commit delivery threads for one app, few at a time."""

    # After an unreachable server, leave delivery to the worker for this long instead of
    # starting a thread per ticket that waits out the same timeout.
    backoff_seconds = 60.0

    def __init__(
        self, settings: DeliverySettings, *, enabled: bool = True, max_threads: int = 4
    ) -> None:
        self.settings = settings
        self.enabled = enabled
        self._slots = threading.BoundedSemaphore(max_threads)
        self._quiet_until = 0.0
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def deliver_soon(self, engine: Engine, ids: Sequence[int]) -> None:
        """Try these committed rows in a background thread, unless busy or backing off."""
        if not (self.enabled and ids) or time.monotonic() < self._quiet_until:
            return
        if not self._slots.acquire(blocking=False):
            return  # enough threads already; the worker or the next commit takes these
        # Not a daemon: an exiting process lets the attempt finish (bounded by the timeout)
        # rather than cut it between sending and recording.
        thread = threading.Thread(
            target=self._run, args=(engine, list(ids)), name="portal-mail-after-commit"
        )
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running attempts; True when none is left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                running = next(iter(self._threads), None)
            if running is None:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            running.join(remaining)

    def _run(self, engine: Engine, ids: list[int]) -> None:
        try:
            report = deliver_due(engine, self.settings, ids=ids)
            if not report.unreachable:
                report = deliver_due(engine, self.settings)
            if report.unreachable:
                self._quiet_until = time.monotonic() + self.backoff_seconds
        except Exception:
            log.exception("After-commit mail delivery failed; the worker will retry")
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())
            self._slots.release()


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
    if session.in_nested_transaction():
        return
    queued = session.info.pop(QUEUED_KEY, None)
    if not queued or not has_app_context():
        return
    relay = relay_of(current_app)
    if relay is None:
        return
    # Rows undone by a rolled-back savepoint are transient again and have no identity.
    states = (inspect(row) for row in queued)
    ids = [state.identity[0] for state in states if state.persistent and state.identity]
    relay.deliver_soon(session.get_bind(), ids)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # A rollback or close of the outermost transaction drops what it queued: nothing to send.
    if transaction.parent is None:
        session.info.pop(QUEUED_KEY, None)
