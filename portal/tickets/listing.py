"""WHMCS's GetTickets list: filters, a page of tickets, and the total they come to."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from portal.models import Ticket
from portal.tickets import statuses

MY_FLAGGED = "My Flagged Tickets"
# GetTickets' status filter: any status title, or one of these pseudo-statuses.
PSEUDO_STATUSES = (statuses.AWAITING, statuses.ALL_ACTIVE, MY_FLAGGED)


@dataclass(frozen=True)
class TicketFilters:
    department_id: int | None = None
    client_id: int | None = None
    # A guest's address: tickets without a client account opened from it.
    email: str = ""
    # A status title, a pseudo-status, or empty for every ticket.
    status: str = ""
    # Text the subject contains.
    subject: str = ""
    # Whose "My Flagged Tickets" these are.
    staff_id: int | None = None


def ticket_page(
    session: Session,
    filters: TicketFilters,
    *,
    start: int,
    limit: int,
    options: Sequence[ORMOption] = (),
) -> tuple[int, list[Ticket]]:
    """The total number of tickets the filters match, and those from `start`, at most `limit`,
    latest reply first."""
    conditions = _conditions(filters)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0
    statement: Select = (
        select(Ticket)
        .where(*conditions)
        .options(*options)
        .order_by(Ticket.last_reply_at.desc(), Ticket.id.desc())
        .offset(start)
        .limit(limit)
    )
    return total, list(session.scalars(statement))


def _conditions(filters: TicketFilters) -> list:
    conditions: list = []
    if filters.department_id is not None:
        conditions.append(Ticket.department_id == filters.department_id)
    if filters.client_id is not None:
        conditions.append(Ticket.client_id == filters.client_id)
    email = filters.email.replace("\x00", "").strip()
    if email:
        conditions += [Ticket.client_id.is_(None), func.lower(Ticket.email) == email.lower()]
    subject = filters.subject.replace("\x00", "").strip()
    if subject:
        conditions.append(Ticket.subject.icontains(subject, autoescape=True))
    status = filters.status.replace("\x00", "").strip()
    if status == MY_FLAGGED:
        conditions.append(Ticket.flagged_staff_id == filters.staff_id)
        status = statuses.ALL_ACTIVE
    if status in (statuses.ALL_ACTIVE, statuses.AWAITING):
        shown = statuses.filtered(status) or frozenset()
        conditions.append(Ticket.status.in_(sorted(s.value for s in shown)))
    elif status:
        # Any other title matches the tickets of that status, which for an unknown one is none.
        titled = statuses.parse(status)
        conditions.append(Ticket.status == titled.value if titled is not None else false())
    return conditions
