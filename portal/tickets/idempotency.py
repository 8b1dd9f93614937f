"""One ticket per submission key: the first request with a key opens it, repeats find that one.

A key is claimed by inserting its row, with the ticket's id, right after the ticket, in the same
transaction, so a unique constraint on (scope, key) settles races: a concurrent request with the
same key waits for the first to commit, fails to insert, and rolls back its own ticket instead
of committing a second one. Claiming before opening would settle the race as well, but then the
whole of open_ticket() would run inside SQLite's single write lock. Like open_ticket() this
writes and never commits; the door commits the ticket and its key together.

The key's row is read and claimed with Core statements built once, on the session's connection:
the unit of work, statement building and the session's own execute cost more than the
statements themselves.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy import Row, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from portal.models import IdempotencyKey, StaffMember, Ticket, utcnow
from portal.tickets import parameters
from portal.tickets.departments import Beside, read_beside
from portal.tickets.operations import OpenTicketRequest, open_ticket
from portal.tickets.settings import TicketSettings

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
CLIENT_FORM = "client-form"
STAFF_FORM = "staff-form"
_KEYS = IdempotencyKey.__table__
_TICKETS = Ticket.__table__
# The ticket's number and code come along, so that a form shows a repeat without another query;
# and the department's rules, which opening the ticket needs next.
_BY_KEY = Beside.of(
    select(
        _KEYS.c.id,
        _KEYS.c.ticket_id,
        _KEYS.c.fingerprint,
        _KEYS.c.created_at,
        _TICKETS.c.tid,
        _TICKETS.c.access_code,
    )
    .select_from(_KEYS.outerjoin(_TICKETS, _TICKETS.c.id == _KEYS.c.ticket_id))
    .where(_KEYS.c.scope == bindparam("scope"), _KEYS.c.key_sha256 == bindparam("digest"))
)
_CLAIM = insert(_KEYS)
_DELETE = delete(_KEYS).where(_KEYS.c.id == bindparam("key_id"))


class KeyReused(Exception):
    """The key came before with other parameters: the caller mixed up two requests."""


@dataclass(frozen=True)
class Submission:
    """Who sent it (scope), the key they chose, and what they sent (empty: not compared)."""

    scope: str
    key: str
    fingerprint: str = ""


@dataclass(frozen=True)
class Outcome:
    """The ticket of a submission, and whether an earlier request with its key opened it."""

    ticket_id: int
    tid: str
    access_code: str
    repeated: bool
    # The forms need only the tid and code; the rows are loaded for a caller that asks.
    _load_ticket: Callable[[], Ticket] = field(repr=False, compare=False)
    _load_record: Callable[[], IdempotencyKey] = field(repr=False, compare=False)

    @cached_property
    def ticket(self) -> Ticket:
        return self._load_ticket()

    @cached_property
    def record(self) -> IdempotencyKey:
        """The key's row, in the session: changes to it are saved with the ticket."""
        return self._load_record()


def open_ticket_once(
    session: Session,
    submission: Submission,
    request: OpenTicketRequest,
    settings: TicketSettings,
    *,
    acting_staff: StaffMember | None = None,
) -> Outcome:
    """Open a ticket unless the key already opened one; raises OpenTicketError or KeyReused."""
    found = look_up(session, submission, department_id=parameters.row_id(request.deptid))
    if found.earlier is not None:
        return found.earlier
    return found.open_ticket(request, settings, acting_staff=acting_staff)


def look_up(
    session: Session, submission: Submission, *, department_id: int | None = None
) -> "KeyLookup":
    """Read the key once: a door may show an earlier ticket before it checks anything else.

    With `department_id`, that department's rules are read in the same statement, for
    department_rules() to find.
    """
    digest = key_digest(submission.key)
    keys = {"scope": submission.scope, "digest": digest}
    row = read_beside(session, _BY_KEY, keys, department_id)
    return KeyLookup(session, submission, digest, row)


class KeyLookup:
    """A submission key as read: the ticket an earlier request opened with it, or none yet."""

    def __init__(self, session: Session, submission: Submission, digest: str, row: Row | None):
        self.session = session
        self.submission = submission
        self.digest = digest
        self.row = row
        # Raises KeyReused for a live key that came with other parameters.
        self.earlier = _earlier(session, submission, row)

    def open_ticket(
        self,
        request: OpenTicketRequest,
        settings: TicketSettings,
        *,
        acting_staff: StaffMember | None = None,
    ) -> Outcome:
        """Open the key's ticket and claim the key, or find the one a concurrent request opened.

        After losing a race for the key this rolls the session back, which undoes this
        request's ticket and its stored files and lets MariaDB's snapshot see the winner's row.
        """
        if self.earlier is not None:
            return self.earlier
        opened = open_ticket(self.session, request, settings, acting_staff=acting_staff)
        try:
            key_id = self._claim(opened.id)
        except IntegrityError:
            self.session.rollback()
            earlier = look_up(self.session, self.submission).earlier
            if earlier is None:
                raise
            return earlier
        return Outcome(
            opened.id,
            opened.tid,
            opened.c,
            False,
            lambda: opened.ticket,
            lambda: self._claimed_record(key_id, opened.id),
        )

    def _claim(self, ticket_id: int) -> int:
        if self.row is not None:
            # Expired or without its ticket (a live one is returned before): start it anew.
            self.session.connection().execute(_DELETE, {"key_id": self.row.id})
        inserted = self.session.connection().execute(
            _CLAIM,
            {
                "scope": self.submission.scope,
                "key_sha256": self.digest,
                "fingerprint": self.submission.fingerprint,
                "ticket_id": ticket_id,
                "created_at": utcnow(),
            },
        )
        return inserted.inserted_primary_key[0]

    def _claimed_record(self, key_id: int, ticket_id: int) -> IdempotencyKey:
        # The row as just written, made persistent without reading it back; created_at is left
        # unloaded, since a database may have stored it at a coarser precision.
        record = IdempotencyKey(
            id=key_id,
            scope=self.submission.scope,
            key_sha256=self.digest,
            fingerprint=self.submission.fingerprint,
            ticket_id=ticket_id,
            response_status=None,
            response_content_type=None,
            response_body=None,
        )
        make_transient_to_detached(record)
        self.session.add(record)
        return record


def remember_response(record: IdempotencyKey, status: int, content_type: str, body: str) -> None:
    """Keep the answer to the first request, so that repeats get exactly the same one."""
    record.response_status = status
    record.response_content_type = content_type
    record.response_body = body


def delete_expired(session: Session, now: datetime | None = None) -> int:
    """Delete keys past their lifetime (they are ignored anyway); returns how many."""
    cutoff = (now or utcnow()) - KEY_LIFETIME
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return result.rowcount


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _earlier(session: Session, submission: Submission, row: Row | None) -> Outcome | None:
    if row is None or row.tid is None or _expired(row.created_at):
        return None
    if row.fingerprint != submission.fingerprint:
        raise KeyReused(submission.key)
    return Outcome(
        row.ticket_id,
        row.tid,
        row.access_code,
        True,
        lambda: session.get(Ticket, row.ticket_id),
        lambda: session.get(IdempotencyKey, row.id),
    )


def _expired(created_at: datetime) -> bool:
    return created_at < utcnow() - KEY_LIFETIME
