"""Closing a ticket from the client area. It flushes; the caller commits or rolls back."""

from sqlalchemy.orm import Session

from portal.models import Ticket, TicketStatus
from portal.tickets.errors import FieldError, TicketError

CLIENT_CLOSURE_PREVENTED = (
    "This ticket cannot be closed from here: our staff will close it once it is resolved."
)


class CloseTicketError(TicketError):
    """The ticket may not be closed by the client."""

    status = 403

    def __init__(self, message: str):
        super().__init__([FieldError((), message)])


def client_may_close(ticket: Ticket) -> bool:
    """Whether the client area offers Close: the ticket is open and closure is not prevented."""
    return not ticket.prevent_client_closure and not ticket.is_closed


def close_ticket_as_client(session: Session, ticket: Ticket) -> bool:
    """Close a ticket the caller may access; False when it was closed already."""
    if ticket.prevent_client_closure:
        raise CloseTicketError(CLIENT_CLOSURE_PREVENTED)
    if ticket.is_closed:
        return False
    ticket.status = TicketStatus.CLOSED
    session.flush()
    return True
