"""The errors OpenTicket answers with: the spec's exact strings, and the few it adds."""

from dataclasses import dataclass

CLIENT_NOT_FOUND = "Client ID Not Found"
USER_NOT_FOUND = "The system cannot find the provided user ID."
CONTACT_NOT_FOUND = "Contact ID Not Found"
NAME_AND_EMAIL_REQUIRED = "Name and email address are required if not a client"
DEPARTMENT_NOT_FOUND = "Department ID not found"
SUBJECT_REQUIRED = "Subject is required"
MESSAGE_REQUIRED = "Message is required"
SERVICE_NOT_FOUND = "Service ID Not Found"
DOMAIN_NOT_FOUND = "Domain ID Not Found"
EMAIL_INVALID = "Email Address Invalid"
INVALID_DATE_FORMAT = "Invalid Date Format"
DATE_IN_FUTURE = "Ticket creation date cannot be in the future"
UNABLE_TO_GENERATE_NUMBER = "Unable to generate ticket number"
# The conversation's actions (AddTicketReply, AddTicketNote, UpdateTicket): WHMCS capitalises
# "not found" differently from one action to the next.
TICKET_ID_NOT_FOUND = "Ticket ID not found"
TICKET_ID_NOT_FOUND_UPDATE = "Ticket ID Not Found"
DEPARTMENT_ID_NOT_FOUND = "Department ID Not Found"
INVALID_TICKET_STATUS = "Invalid Ticket Status"
REPLY_DATE_IN_FUTURE = "Reply creation date cannot be in the future"
# The client area's own rules.
LOGIN_TO_USE = "Log in to contact this department"
NOT_YOUR_ACCOUNT = "Choose one of your own accounts"
NOT_YOUR_TICKET = "This ticket belongs to another account"

# WHMCS silently drops what it cannot take; these say what was refused instead.
ATTACHMENTS_UNDECODABLE = (
    "Attachments could not be read: send base64 of a JSON array of {name, data} objects"
)


def invalid_priority(valid: list[str]) -> str:
    return f"Invalid Ticket Priority. Valid priorities are: {','.join(valid)}"


def invalid_status(valid: list[str]) -> str:
    return f"Invalid Ticket Status. Valid statuses are: {','.join(valid)}"


def too_long(label: str, limit: int) -> str:
    return f"{label} is too long (at most {limit:,} characters)"


@dataclass(frozen=True)
class FieldError:
    """One broken rule and the request fields it concerns, so a form can show it in place."""

    fields: tuple[str, ...]
    message: str


class TicketError(Exception):
    """The core refused a request; `message` is the first error in WHMCS's checking order."""

    # What a web door answers with: the request was understood and broke a rule.
    status = 422

    def __init__(self, errors: list[FieldError]):
        super().__init__(errors[0].message)
        self.errors = errors

    @property
    def message(self) -> str:
        return self.errors[0].message


class OpenTicketError(TicketError):
    """OpenTicket refused the request."""


class ReplyError(TicketError):
    """AddTicketReply refused the reply."""


class NoteError(TicketError):
    """AddTicketNote refused the note."""


class UpdateTicketError(TicketError):
    """UpdateTicket (or closing) refused the change."""


class NotAllowed(TicketError):
    """The person may not do this to this ticket."""

    status = 403
