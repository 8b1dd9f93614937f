"""The in-process attempt right after a commit, so that one machine needs no mail worker.

open_ticket() notes in `session.info` the tickets whose mail it queued; when that session
commits, this module hands those ticket ids to a background thread of the current app. The
request that opened the ticket never waits for the mail server: a slow or dead server holds up
that thread, not a response, and a failure leaves the row pending for `flask send-mail` (or the
relay's periodic sweep of due rows). Doors need do nothing beyond committing.

One thread per process, kept while commits keep coming: starting a thread, claiming and
recording per ticket cost more CPU than composing the ticket. Ids committed while it works
are taken together in its next claim, so a busy worker pays one claim for several tickets.
"""

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import replace

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction

from portal.mail.delivery import DeliverySettings, deliver_due
from portal.mail.outbox import MESSAGES_PER_TICKET, QUEUED_KEY

log = logging.getLogger(__name__)

EXTENSION = "portal_mail"


class Relay:
    """Delivers committed rows of one app from a background thread, batching what piles up."""

    # After an unreachable server, leave delivery to the worker for this long instead of
    # trying every new ticket against a server that will make each attempt wait out its timeout.
    backoff_seconds = 60.0
    # Rows an earlier attempt left pending are swept up at most this often, not after every
    # ticket: each sweep is a write transaction that competes with the tickets being opened.
    sweep_seconds = 10.0
    # An idle thread ends after this long; a process that exits waits at most this for it.
    linger_seconds = 1.0

    def __init__(self, settings: DeliverySettings, *, enabled: bool = True) -> None:
        self.settings = settings
        self.enabled = enabled
        self._quiet_until = 0.0
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._changed = threading.Condition()
        self._pending: dict[Engine, list[int]] = {}
        self._busy = False
        self._thread: threading.Thread | None = None
        # Not at the first commit: a fresh process's first tickets go out without waiting on it.
        self._next_sweep = time.monotonic() + self.sweep_seconds

    def deliver_soon(self, engine: Engine, ticket_ids: Sequence[int]) -> None:
        """Try these committed tickets' rows in the background thread, unless backing off."""
        if not (self.enabled and ticket_ids) or time.monotonic() < self._quiet_until:
            return
        if self._pid != os.getpid():
            self._reset()  # a forked child has none of its parent's threads
        with self._changed:
            self._pending.setdefault(engine, []).extend(ticket_ids)
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
                batch, self._pending = self._pending, {}
                self._busy = True
            try:
                for engine, ticket_ids in batch.items():
                    self._deliver(engine, ticket_ids)
            except Exception:
                log.exception("After-commit mail delivery failed; the worker will retry")
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()

    def _deliver(self, engine: Engine, ticket_ids: list[int]) -> None:
        if time.monotonic() < self._quiet_until:
            return  # backing off: these stay pending for the worker
        size = max(1, self.settings.batch_size // MESSAGES_PER_TICKET)
        for start in range(0, len(ticket_ids), size):
            chunk = ticket_ids[start : start + size]
            report = deliver_due(
                engine, self.settings, ticket_ids=chunk, limit=len(chunk) * MESSAGES_PER_TICKET
            )
            if report.unreachable:
                self._quiet_until = time.monotonic() + self.backoff_seconds
                return
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.sweep_seconds
            report = deliver_due(engine, self.settings)
            if report.unreachable:
                self._quiet_until = time.monotonic() + self.backoff_seconds


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
    # A ticket undone by a rolled-back savepoint has no rows to claim.
    relay.deliver_soon(session.get_bind(), queued)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # A rollback or close of the outermost transaction drops what it queued: nothing to send.
    if transaction.parent is None:
        session.info.pop(QUEUED_KEY, None)
