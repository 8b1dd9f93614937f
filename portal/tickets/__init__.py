"""OpenTicket: the one place where the rules for opening a support ticket live."""

from portal.tickets.attachments import IncomingFile
from portal.tickets.errors import FieldError, OpenTicketError
from portal.tickets.operations import (
    OpenedTicket,
    OpenTicketRequest,
    attachment_problem,
    open_ticket,
)
from portal.tickets.settings import TicketSettings

__all__ = [
    "FieldError",
    "IncomingFile",
    "OpenTicketError",
    "OpenTicketRequest",
    "OpenedTicket",
    "TicketSettings",
    "attachment_problem",
    "open_ticket",
]
