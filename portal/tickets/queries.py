"""Reading tickets for pages and the API: one ticket's thread, and lists with filters and search."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from portal.models import Attachment, ClientAccount, Ticket, TicketNote, TicketReply
from portal.rendering import StoredMessage
from portal.tickets import statuses
from portal.tickets.access import tids_meant
from portal.tickets.parameters import MAX_ROW_ID


def page_number(asked: int | None, per_page: int) -> int:
    """The page of a list to show: the first unless asked, and none past the last a row id can
    reach, so that an offset never overflows the database's integers."""
    last_possible = MAX_ROW_ID // per_page + 1
    return min(max(asked or 1, 1), last_possible)


@dataclass(frozen=True)
class ThreadEntry:
    """One message of a ticket's conversation, as a page shows it."""

    kind: str  # "message" (the opening one), "reply" or "note"
    author: str
    by_staff: bool
    created_at: datetime
    record: StoredMessage
    attachments: list[Attachment] = field(default_factory=list)
    # The reply's or note's id; None for the opening message.
    id: int | None = None

    @property
    def is_note(self) -> bool:
        return self.kind == "note"


def thread(ticket: Ticket, *, with_notes: bool, newest_first: bool = False) -> list[ThreadEntry]:
    """The opening message and every reply (and for staff, every note), oldest first."""
    entries = [
        ThreadEntry(
            "message", ticket.name, False, ticket.created_at, ticket, list(ticket.attachments)
        )
    ]
    entries += [_reply_entry(reply) for reply in ticket.replies]
    if with_notes:
        entries += [_note_entry(note) for note in ticket.notes]
    # The opening message comes first even when a backdated reply says otherwise.
    entries[1:] = sorted(entries[1:], key=lambda entry: (entry.created_at, entry.id or 0))
    return entries[::-1] if newest_first else entries


def thread_loading():
    """The loader options that read a ticket's whole thread in a few statements."""
    return (
        selectinload(Ticket.attachments),
        selectinload(Ticket.replies).selectinload(TicketReply.attachments),
    )


def notes_loading():
    return (selectinload(Ticket.notes).selectinload(TicketNote.attachments),)


def client_ticket_list(client_id: int, *, status_filter: str = "", search: str = "") -> Select:
    """An account's tickets, latest activity first, filtered by status and a search text."""
    statement = (
        select(Ticket)
        .where(Ticket.client_id == client_id)
        .options(selectinload(Ticket.department))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    )
    return _searched(_filtered(statement, status_filter), search, staff=False)


def awaiting_the_client(client_id: int) -> Select:
    """An account's tickets that staff answered last: the client's reply is awaited."""
    statement = client_ticket_list(client_id)
    return statement.where(Ticket.status == statuses.AFTER_STAFF_REPLY.value)


def active_not_awaiting_the_client(client_id: int) -> Select:
    """An account's other active tickets: with staff, on hold or in progress."""
    statement = client_ticket_list(client_id, status_filter=statuses.ALL_ACTIVE)
    return statement.where(Ticket.status != statuses.AFTER_STAFF_REPLY.value)


def staff_ticket_list(
    *, department_id: int | None = None, status_filter: str = "", search: str = ""
) -> Select:
    """Every ticket, or those of one department or status set, latest activity first."""
    statement = (
        select(Ticket)
        .options(
            selectinload(Ticket.department),
            selectinload(Ticket.client),
            selectinload(Ticket.opened_by),
        )
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    )
    if department_id:
        statement = statement.where(Ticket.department_id == department_id)
    return _searched(_filtered(statement, status_filter), search, staff=True)


def _filtered(statement: Select, status_filter: str) -> Select:
    shown = statuses.filtered(status_filter)
    if shown is None:
        return statement
    return statement.where(Ticket.status.in_(sorted(s.value for s in shown)))


def _searched(statement: Select, text: str, *, staff: bool) -> Select:
    text = text.replace("\x00", "").strip()
    if not text:
        return statement
    conditions = [
        Ticket.tid.in_(tids_meant(text)),
        Ticket.subject.icontains(text, autoescape=True),
    ]
    if staff:
        conditions += [
            Ticket.name.icontains(text, autoescape=True),
            Ticket.email.icontains(text, autoescape=True),
            Ticket.client_id.in_(_clients_matching(text)),
        ]
    return statement.where(or_(*conditions))


def _clients_matching(text: str) -> Select:
    columns: Iterable = (
        ClientAccount.first_name,
        ClientAccount.last_name,
        ClientAccount.company_name,
        ClientAccount.email,
    )
    return select(ClientAccount.id).where(
        or_(*(column.icontains(text, autoescape=True) for column in columns))
    )


def _reply_entry(reply: TicketReply) -> ThreadEntry:
    return ThreadEntry(
        "reply",
        reply.name,
        reply.by_staff,
        reply.created_at,
        reply,
        list(reply.attachments),
        id=reply.id,
    )


def _note_entry(note: TicketNote) -> ThreadEntry:
    return ThreadEntry(
        "note", note.name, True, note.created_at, note, list(note.attachments), id=note.id
    )
