"""Reading tickets for pages: lists with their filters, newest first."""

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from portal.models import Ticket, TicketStatus
from portal.tickets.parameters import MAX_ROW_ID


def page_number(asked: int | None, per_page: int) -> int:
    """The page of a list to show: the first unless asked, and none past the last a row id can
    reach, so that an offset never overflows the database's integers."""
    last_possible = MAX_ROW_ID // per_page + 1
    return min(max(asked or 1, 1), last_possible)


def staff_ticket_list(*, department_id: int | None, status: str) -> Select:
    """Every ticket, or those of one department or status, with what the list shows of them."""
    statement = (
        select(Ticket)
        .options(
            selectinload(Ticket.department),
            selectinload(Ticket.client),
            selectinload(Ticket.opened_by),
        )
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    )
    if department_id:
        statement = statement.where(Ticket.department_id == department_id)
    if status in set(TicketStatus):
        statement = statement.where(Ticket.status == status)
    return statement
