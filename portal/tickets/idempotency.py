"""One ticket (or reply, or note) per submission key: the first request with a key makes it,
repeats find that one.

A key is claimed by adding its row, with the ticket, right after the ticket, in the same
transaction, so a unique constraint on (scope, key) settles races: a concurrent request with the
same key waits for the first to commit, fails to insert, and undoes its own ticket (both were
written in one savepoint) instead of committing a second one. Like open_ticket() this writes
and flushes; the door commits the ticket and its key together.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portal.models import IdempotencyKey, StaffMember, Ticket, TicketNote, TicketReply, utcnow
from portal.tickets import attachments
from portal.tickets.notes import NoteRequest, add_note
from portal.tickets.opening import OpenTicketRequest, open_ticket
from portal.tickets.replies import ReplyRequest, add_reply
from portal.tickets.settings import TicketSettings

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
CLIENT_FORM = "client-form"
STAFF_FORM = "staff-form"
CLIENT_REPLY_FORM = "client-reply"
STAFF_REPLY_FORM = "staff-reply"
STAFF_NOTE_FORM = "staff-note"


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
    """What a submission made (a ticket, or a ticket's reply or note), its key's row, and
    whether an earlier request made it."""

    ticket: Ticket
    record: IdempotencyKey
    repeated: bool
    reply: TicketReply | None = None
    note: TicketNote | None = None


def open_ticket_once(
    session: Session,
    submission: Submission,
    request: OpenTicketRequest,
    settings: TicketSettings,
    *,
    acting_staff: StaffMember | None = None,
) -> Outcome:
    """Open a ticket unless the key already opened one; raises OpenTicketError or KeyReused."""
    key = look_up(session, submission)
    return key.earlier or key.open_ticket(request, settings, acting_staff=acting_staff)


def look_up(session: Session, submission: Submission) -> "SubmissionKey":
    """Read the key once: a door may show an earlier ticket before it checks anything else.

    Raises KeyReused for a live key that came with other parameters.
    """
    return SubmissionKey(session, submission, _record(session, submission))


class SubmissionKey:
    """A submission key as read: the ticket an earlier request opened with it, or none yet."""

    def __init__(
        self, session: Session, submission: Submission, record: IdempotencyKey | None
    ) -> None:
        self.session = session
        self.submission = submission
        self.record = record
        self.earlier = _earlier(record, submission)

    def open_ticket(
        self,
        request: OpenTicketRequest,
        settings: TicketSettings,
        *,
        acting_staff: StaffMember | None = None,
    ) -> Outcome:
        """Open the key's ticket and claim the key, or find the one a concurrent request opened."""
        return self._first(
            lambda: _Made(open_ticket(self.session, request, settings, acting_staff=acting_staff)),
            settings,
        )

    def add_reply(
        self,
        ticket: Ticket,
        request: ReplyRequest,
        settings: TicketSettings,
        *,
        staff: StaffMember | None = None,
    ) -> Outcome:
        """Add the key's reply and claim the key, or find the one an earlier request added."""
        return self._first(
            lambda: _Made(
                ticket, reply=add_reply(self.session, ticket, request, settings, staff=staff)
            ),
            settings,
        )

    def add_note(
        self,
        ticket: Ticket,
        request: NoteRequest,
        settings: TicketSettings,
        *,
        staff: StaffMember | None,
    ) -> Outcome:
        """Add the key's note and claim the key, or find the one an earlier request added."""
        return self._first(
            lambda: _Made(
                ticket, note=add_note(self.session, ticket, request, settings, staff=staff)
            ),
            settings,
        )

    def _first(self, make: Callable[[], "_Made"], settings: TicketSettings) -> Outcome:
        if self.earlier is not None:
            return self.earlier
        session, made = self.session, None
        try:
            with session.begin_nested():
                made = make()
                claimed = _claim(session, self.submission, made, replacing=self.record)
        except IntegrityError:
            # Lost the race for the key: what this request made went with the savepoint.
            if made is not None:
                attachments.discard_files(settings.attachments_dir, made.files)
            earlier = _earlier(_record(session, self.submission, locking=True), self.submission)
            if earlier is None:
                raise
            return earlier
        return Outcome(made.ticket, claimed, repeated=False, reply=made.reply, note=made.note)


@dataclass(frozen=True)
class _Made:
    ticket: Ticket
    reply: TicketReply | None = None
    note: TicketNote | None = None

    @property
    def files(self) -> list:
        made = self.reply or self.note or self.ticket
        return list(made.attachments)


def remember_response(record: IdempotencyKey, status: int, content_type: str, body: str) -> None:
    """Keep the answer to the first request, so that repeats get exactly the same one."""
    record.response_status = status
    record.response_content_type = content_type
    record.response_body = body


def delete_expired(session: Session, now: datetime | None = None) -> int:
    """Delete keys past their lifetime (they are ignored anyway); returns how many."""
    cutoff = (now or utcnow()) - KEY_LIFETIME
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return result.rowcount  # type: ignore[attr-defined]


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _record(
    session: Session, submission: Submission, *, locking: bool = False
) -> IdempotencyKey | None:
    """The key's row; `locking` reads it as committed now, past the transaction's snapshot
    (which MariaDB's REPEATABLE READ would otherwise keep showing)."""
    statement = (
        select(IdempotencyKey)
        .where(
            IdempotencyKey.scope == submission.scope,
            IdempotencyKey.key_sha256 == key_digest(submission.key),
        )
        .options(
            joinedload(IdempotencyKey.ticket),
            joinedload(IdempotencyKey.reply),
            joinedload(IdempotencyKey.note),
        )
    )
    if locking:
        statement = statement.with_for_update(read=True, of=IdempotencyKey).execution_options(
            populate_existing=True
        )
    return session.scalars(statement).first()


def _earlier(record: IdempotencyKey | None, submission: Submission) -> Outcome | None:
    if record is None or record.ticket is None or _expired(record.created_at):
        return None
    if record.fingerprint != submission.fingerprint:
        raise KeyReused(submission.key)
    return Outcome(record.ticket, record, repeated=True, reply=record.reply, note=record.note)


def _claim(
    session: Session, submission: Submission, made: _Made, *, replacing: IdempotencyKey | None
) -> IdempotencyKey:
    if replacing is not None:
        # Expired or without its ticket (a live one is returned before): start it anew.
        session.delete(replacing)
        session.flush()
    record = IdempotencyKey(
        scope=submission.scope,
        key_sha256=key_digest(submission.key),
        fingerprint=submission.fingerprint,
        ticket=made.ticket,
        reply=made.reply,
        note=made.note,
        created_at=utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def _expired(created_at: datetime) -> bool:
    return created_at < utcnow() - KEY_LIFETIME
