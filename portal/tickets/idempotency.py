"""One ticket per submission key: the first request with a key opens it, repeats find that one.

A key is claimed by inserting its row before the ticket is opened, in the same transaction, so a
unique constraint on (scope, key) settles races: a concurrent request with the same key waits
for the first to commit and then fails to insert, instead of opening a second ticket. Like
open_ticket() this flushes and never commits; the door commits the ticket and its key together.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import IdempotencyKey, StaffMember, Ticket, utcnow
from portal.tickets.operations import OpenTicketRequest, open_ticket
from portal.tickets.settings import TicketSettings

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
CLIENT_FORM = "client-form"
STAFF_FORM = "staff-form"


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

    ticket: Ticket
    record: IdempotencyKey
    repeated: bool


def open_ticket_once(
    session: Session,
    submission: Submission,
    request: OpenTicketRequest,
    settings: TicketSettings,
    *,
    acting_staff: StaffMember | None = None,
) -> Outcome:
    """Open a ticket unless the key already opened one; raises OpenTicketError or KeyReused.

    After losing a race for the key this rolls the session back, which discards nothing of this
    request (the claim is its first write) and lets MariaDB's snapshot see the winner's row.
    """
    found = _record(session, submission)
    earlier = _earlier(found, submission)
    if earlier is not None:
        return earlier
    try:
        record = _claim(session, submission, found)
    except IntegrityError:
        session.rollback()
        earlier = earlier_submission(session, submission)
        if earlier is None:
            raise
        return earlier
    opened = open_ticket(session, request, settings, acting_staff=acting_staff)
    record.ticket = opened.ticket
    session.flush()
    return Outcome(opened.ticket, record, repeated=False)


def earlier_submission(session: Session, submission: Submission) -> Outcome | None:
    """The ticket an unexpired earlier request with this key opened, or None."""
    return _earlier(_record(session, submission), submission)


def _earlier(record: IdempotencyKey | None, submission: Submission) -> Outcome | None:
    if record is None or _expired(record) or record.ticket is None:
        return None
    if record.fingerprint != submission.fingerprint:
        raise KeyReused(submission.key)
    return Outcome(record.ticket, record, repeated=True)


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


def _record(session: Session, submission: Submission) -> IdempotencyKey | None:
    return session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.scope == submission.scope,
            IdempotencyKey.key_sha256 == key_digest(submission.key),
        )
    )


def _claim(
    session: Session, submission: Submission, stale: IdempotencyKey | None
) -> IdempotencyKey:
    # `stale` is the key's row as just read, if any: reading it again would find the same row.
    if stale is not None:
        # Expired (a live one was returned before): the key may start a new ticket.
        session.delete(stale)
        session.flush()
    record = IdempotencyKey(
        scope=submission.scope,
        key_sha256=key_digest(submission.key),
        fingerprint=submission.fingerprint,
    )
    session.add(record)
    session.flush()
    return record


def _expired(record: IdempotencyKey) -> bool:
    return record.created_at < utcnow() - KEY_LIFETIME
