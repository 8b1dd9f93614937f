"""Tickets, replies and notes as WHMCS's reading actions write them.

Database values are strings, as in WHMCS's examples (`"ticketid":"1"`, `"flag":"0"`); only the
numbers WHMCS computes are ints (attachment indexes here), and `attachments_removed` a boolean.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from portal.api.responses import Fields, Value
from portal.models import Attachment, Ticket, TicketNote, TicketReply
from portal.tickets.attachment_files import files_removed

OWNER = "Owner"
AUTHORIZED_USER = "Authorized User"
SUB_ACCOUNT = "Sub-Account"
GUEST = "Guest"
REGISTERED_USER = "Registered User"
OPERATOR = "Operator"


class Writer:
    """Writes records in the portal's time zone, checking files under `attachments_dir`."""

    def __init__(self, timezone: ZoneInfo, attachments_dir: Path):
        self.timezone = timezone
        self.attachments_dir = attachments_dir

    def date(self, moment: datetime | None) -> str:
        """`Y-m-d H:i:s` in the portal's TIMEZONE, in which `created` inputs are read too."""
        if moment is None:
            return ""
        return moment.replace(tzinfo=UTC).astimezone(self.timezone).strftime("%Y-%m-%d %H:%M:%S")

    def files(self, attachments: Sequence[Attachment]) -> Fields:
        """`attachment` (names joined with pipes), `attachments` and `attachments_removed`."""
        return {
            "attachment": "|".join(f"{a.id}_{a.original_name}" for a in attachments),
            "attachments": [
                {"filename": a.original_name, "index": index} for index, a in enumerate(attachments)
            ],
            "attachments_removed": files_removed(attachments, self.attachments_dir),
        }

    def ticket_summary(self, ticket: Ticket) -> Fields:
        """One element of GetTickets' `tickets.ticket`."""
        requestor = requestor_of(ticket)
        return {
            "id": str(ticket.id),
            "tid": ticket.tid,
            "deptid": str(ticket.department_id),
            "userid": _id(ticket.client_id),
            "name": ticket.name,
            "owner_name": ticket.client.name if ticket.client is not None else "",
            "email": ticket.email,
            **requestor,
            "cc": ticket.cc,
            "c": ticket.access_code,
            "date": self.date(ticket.created_at),
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "admin": ticket.opened_by.name if ticket.opened_by is not None else "",
            **self.files(ticket.attachments),
            "lastreply": self.date(ticket.last_reply_at),
            "flag": _id(ticket.flagged_staff_id),
            "service": related_item(ticket),
        }

    def ticket(self, ticket: Ticket, *, newest_first: bool) -> Fields:
        """GetTicket's answer: the ticket, its opening message as reply 0, its replies and notes."""
        requestor = requestor_of(ticket)
        replies: list[Value] = [self.opening_message(ticket, requestor)]
        replies += [self.reply(ticket, reply) for reply in _in_order(ticket.replies)]
        if newest_first:
            replies.reverse()
        return {
            "ticketid": str(ticket.id),
            "tid": ticket.tid,
            "c": ticket.access_code,
            "deptid": str(ticket.department_id),
            "deptname": ticket.department.name,
            "userid": _id(ticket.client_id),
            "contactid": _id(ticket.contact_id),
            "name": ticket.name,
            "email": ticket.email,
            **requestor,
            "cc": ticket.cc,
            "date": self.date(ticket.created_at),
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "admin": ticket.opened_by.name if ticket.opened_by is not None else "",
            "lastreply": self.date(ticket.last_reply_at),
            "flag": _id(ticket.flagged_staff_id),
            "service": related_item(ticket),
            "replies": {"reply": replies},
            "notes": {"note": [self.note(note) for note in _in_order(ticket.notes)]},
        }

    def opening_message(self, ticket: Ticket, requestor: Fields) -> Fields:
        return {
            "replyid": "0",
            "userid": _id(ticket.client_id),
            "contactid": _id(ticket.contact_id),
            "name": ticket.name,
            "email": ticket.email,
            **requestor,
            "date": self.date(ticket.created_at),
            "message": ticket.message,
            **self.files(ticket.attachments),
            "admin": ticket.opened_by.name if ticket.opened_by is not None else "",
        }

    def reply(self, ticket: Ticket, reply: TicketReply) -> Fields:
        by_client = reply.user_id is not None or reply.contact_id is not None
        if reply.staff_id is not None:
            staff = reply.staff
            requestor: Fields = {
                "requestor_name": staff.name if staff is not None else reply.name,
                "requestor_email": staff.email if staff is not None else "",
                "requestor_type": OPERATOR,
            }
        else:
            requestor = {
                "requestor_name": reply.name,
                "requestor_email": reply.email,
                "requestor_type": _reply_requestor_type(ticket, reply),
            }
        # WHMCS keeps the name and address only for authors without an account.
        guest = reply.staff_id is None and not by_client
        return {
            "replyid": str(reply.id),
            "userid": _id(ticket.client_id) if by_client else "0",
            "contactid": _id(reply.contact_id),
            "name": reply.name if guest else "",
            "email": reply.email if guest else "",
            **requestor,
            "date": self.date(reply.created_at),
            "message": reply.message,
            **self.files(reply.attachments),
            "admin": reply.name if reply.staff_id is not None else "",
            "rating": "0",
        }

    def note(self, note: TicketNote) -> Fields:
        """An element of GetTicket's `notes.note`."""
        return {
            "noteid": str(note.id),
            "date": self.date(note.created_at),
            "message": note.message,
            **self.files(note.attachments),
            "admin": note.name,
        }

    def listed_note(self, note: TicketNote) -> Fields:
        """An element of GetTicketNotes' `notes.note`: its id is `id`, and no index list."""
        files = self.files(note.attachments)
        return {
            "id": str(note.id),
            "admin": note.name,
            "date": self.date(note.created_at),
            "message": note.message,
            "attachment": files["attachment"],
            "attachments_removed": files["attachments_removed"],
        }


def requestor_of(ticket: Ticket) -> Fields:
    """Who asked: `requestor_name`, `requestor_email` and `requestor_type` (WHMCS 8)."""
    return {
        "requestor_name": ticket.name,
        "requestor_email": ticket.email,
        "requestor_type": _ticket_requestor_type(ticket),
    }


def related_item(ticket: Ticket) -> str:
    """`S<id>` for a service, `D<id>` for a domain, empty for neither."""
    if ticket.service_id is not None:
        return f"S{ticket.service_id}"
    if ticket.domain_id is not None:
        return f"D{ticket.domain_id}"
    return ""


def _ticket_requestor_type(ticket: Ticket) -> str:
    if ticket.client_id is None:
        return GUEST
    if ticket.contact_id is not None:
        return SUB_ACCOUNT
    return _user_type(ticket, ticket.user_id)


def _reply_requestor_type(ticket: Ticket, reply: TicketReply) -> str:
    if reply.contact_id is not None:
        return SUB_ACCOUNT
    if reply.user_id is None:
        return GUEST
    if ticket.client_id is None:
        # A client's user answering a guest's ticket: registered, but not of its account.
        return REGISTERED_USER
    return _user_type(ticket, reply.user_id)


def _user_type(ticket: Ticket, user_id: int | None) -> str:
    client = ticket.client
    if client is None or user_id is None:
        # An account without an owner writes as itself.
        return OWNER
    owners = [m.user_id for m in client.memberships if m.is_owner]
    return OWNER if not owners or user_id in owners else AUTHORIZED_USER


def _in_order(items: Sequence) -> list:
    # The opening message comes first even when a backdated reply says otherwise.
    return sorted(items, key=lambda item: (item.created_at, item.id))


def _id(value: int | None) -> str:
    return str(value) if value is not None else "0"
