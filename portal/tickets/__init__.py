"""The ticket core: the one place where the rules for support tickets live."""

from portal.tickets.attachments import IncomingFile
from portal.tickets.errors import FieldError, OpenTicketError
from portal.tickets.inputs import attachment_problem
from portal.tickets.opening import OpenTicketRequest, open_ticket
from portal.tickets.settings import TicketSettings

__all__ = [
    "FieldError",
    "IncomingFile",
    "OpenTicketError",
    "OpenTicketRequest",
    "TicketSettings",
    "attachment_problem",
    "open_ticket",
]
