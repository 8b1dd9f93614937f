"""Finding the ticket an action names, by id or by number, with the action's own not-found text."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from portal.models import StaffMember, Ticket
from portal.tickets import parameters
from portal.tickets.errors import FieldError, TicketError


class TicketNotFound(TicketError):
    """No ticket has the id or number asked for; `message` is the action's own wording."""

    status = 404


def ticket_by_id(
    session: Session,
    ticketid: object,
    *,
    missing: str,
    options: Sequence[ORMOption] = (),
) -> Ticket:
    """The ticket with this id (read as PHP's (int) cast reads it), or TicketNotFound(missing)."""
    ticket_key = parameters.row_id(ticketid)
    ticket = None
    if ticket_key is not None:
        statement = select(Ticket).where(Ticket.id == ticket_key).options(*options)
        ticket = session.scalars(statement).first()
    if ticket is None:
        raise TicketNotFound([FieldError(("ticketid",), missing)])
    return ticket


def ticket_by_id_or_number(
    session: Session,
    ticketid: object,
    ticketnum: object,
    *,
    missing: str,
    options: Sequence[ORMOption] = (),
) -> Ticket:
    """The ticket a `ticketid` names, else the one a `ticketnum` (its tid) names."""
    if parameters.php_int(ticketid) or not _given(ticketnum):
        return ticket_by_id(session, ticketid, missing=missing, options=options)
    number = str(ticketnum).strip().removeprefix("#").strip()
    ticket = session.scalars(select(Ticket).where(Ticket.tid == number).options(*options)).first()
    # MariaDB compares case-insensitively and ignores trailing spaces; numbers are exact.
    if ticket is None or ticket.tid != number:
        raise TicketNotFound([FieldError(("ticketnum",), missing)])
    return ticket


def staff_by_username(session: Session, username: object) -> StaffMember | None:
    """The active staff member with exactly this username, or None."""
    name = "" if username is None else str(username).strip()
    if not name or len(name) > 64 or "\x00" in name:
        return None
    staff = session.scalar(select(StaffMember).where(StaffMember.username == name))
    if staff is None or staff.username != name or not staff.active:
        return None
    return staff


def _given(value: object) -> bool:
    return value is not None and str(value).strip() != ""
