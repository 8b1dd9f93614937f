"""The reading actions: departments, statuses, tickets, counts, notes and attachment files.

Staff members have no department assignments, so every department is visible to every caller;
`ignore_dept_assignments` and `ignoreDepartmentAssignments` are accepted and change nothing.
"""

import base64
import re

from flask import Response
from sqlalchemy.orm import selectinload

from portal.api import parameters
from portal.api.answers import Writer
from portal.api.calls import Action, Call
from portal.api.responses import Value
from portal.extensions import db
from portal.models import ClientAccount, Ticket, TicketNote, TicketReply, TicketStatus
from portal.tickets import errors, statuses
from portal.tickets.attachment_files import ATTACHMENTS_DELETED, AttachmentNotFound, attachment_file
from portal.tickets.counts import TicketCounts, flagged_active
from portal.tickets.departments import all_departments
from portal.tickets.errors import FieldError, TicketError
from portal.tickets.listing import TicketFilters, ticket_page
from portal.tickets.lookups import ticket_by_id, ticket_by_id_or_number
from portal.tickets.parameters import MAX_ROW_ID, php_int

# GetTicket and GetTicketNotes document no error; WHMCS's UpdateTicket spells its not-found so.
TICKET_ID_NOT_FOUND = errors.TICKET_ID_NOT_FOUND_UPDATE
DEFAULT_LIMIT = 25
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]")
# What a ticket's answers read, in a few statements whatever the number of tickets.
SUMMARY_LOADING = (
    selectinload(Ticket.attachments),
    selectinload(Ticket.client).selectinload(ClientAccount.memberships),
    selectinload(Ticket.opened_by),
)
TICKET_LOADING = (
    *SUMMARY_LOADING,
    selectinload(Ticket.department),
    selectinload(Ticket.replies).selectinload(TicketReply.attachments),
    selectinload(Ticket.replies).selectinload(TicketReply.staff),
    selectinload(Ticket.notes).selectinload(TicketNote.attachments),
)


def writer(call: Call) -> Writer:
    settings = call.settings
    return Writer(settings.timezone, settings.attachments_dir)


def get_support_departments(call: Call) -> Response:
    """Every department with its tickets awaiting a reply and its active ("open") ones."""
    session = db.session()
    counts = TicketCounts(session)
    departments: list[Value] = [
        {
            "id": str(department.id),
            "name": department.name,
            "awaitingreply": str(counts.awaiting_reply(department.id)),
            "opentickets": str(counts.active(department.id)),
        }
        for department in all_departments(session)
    ]
    return call.presenter.success(
        {"totalresults": len(departments), "departments": {"department": departments}}
    )


def get_support_statuses(call: Call) -> Response:
    """The six statuses with their colours and how many tickets have each (in `deptid`)."""
    department_id = _filter_id(call.fields.get("deptid"))
    counts = TicketCounts(db.session()).per_status(department_id)
    listed: list[Value] = [
        {"title": status.value, "count": counts[status], "color": statuses.COLOURS[status]}
        for status in TicketStatus
    ]
    return call.presenter.success({"totalresults": len(listed), "statuses": {"status": listed}})


def get_ticket(call: Call) -> Response:
    """One ticket by `ticketid` or `ticketnum`: its opening message is reply 0."""
    fields = call.fields
    try:
        ticket = ticket_by_id_or_number(
            db.session(),
            fields.get("ticketid"),
            fields.get("ticketnum"),
            missing=TICKET_ID_NOT_FOUND,
            options=TICKET_LOADING,
        )
    except TicketError as problem:
        return call.error(problem)
    newest_first = (fields.get("repliessort") or "").strip().upper() == "DESC"
    return call.presenter.success(writer(call).ticket(ticket, newest_first=newest_first))


def get_tickets(call: Call) -> Response:
    """A page of tickets, filtered; `limitstart` 0 and `limitnum` 25 unless told."""
    fields = call.fields
    start = max(0, min(php_int(fields.get("limitstart")), MAX_ROW_ID))
    limit = min(php_int(fields.get("limitnum")), MAX_ROW_ID)
    if limit <= 0:
        limit = DEFAULT_LIMIT
    filters = TicketFilters(
        department_id=_filter_id(fields.get("deptid")),
        client_id=_filter_id(fields.get("clientid")),
        email=fields.get("email") or "",
        status=fields.get("status") or "",
        subject=fields.get("subject") or "",
        staff_id=call.caller.staff_id,
    )
    total, tickets = ticket_page(
        db.session(), filters, start=start, limit=limit, options=SUMMARY_LOADING
    )
    write = writer(call)
    return call.presenter.success(
        {
            "totalresults": str(total),
            "startnumber": start,
            "numreturned": len(tickets),
            "tickets": {"ticket": [write.ticket_summary(ticket) for ticket in tickets]},
        }
    )


def get_ticket_counts(call: Call) -> Response:
    """Active, awaiting-reply and flagged counts over every department; per status on request."""
    session = db.session()
    counts = TicketCounts(session)
    answer: dict = {
        "filteredDepartments": [department.id for department in all_departments(session)],
        "allActive": counts.active(),
        "awaitingReply": counts.awaiting_reply(),
        "flaggedTickets": flagged_active(session, call.caller.staff_id),
    }
    if parameters.flag(call.fields.get("includeCountsByStatus")):
        per_status = counts.per_status()
        answer["status"] = {
            _NOT_ALPHANUMERIC.sub("", status.value.lower()): {
                "title": status.value,
                "count": per_status[status],
            }
            for status in TicketStatus
        }
    return call.presenter.success(answer)


def get_ticket_notes(call: Call) -> Response:
    try:
        ticket = ticket_by_id(
            db.session(),
            call.fields.get("ticketid"),
            missing=TICKET_ID_NOT_FOUND,
            options=[selectinload(Ticket.notes).selectinload(TicketNote.attachments)],
        )
    except TicketError as problem:
        return call.error(problem)
    write = writer(call)
    notes = sorted(ticket.notes, key=lambda note: (note.created_at, note.id))
    return call.presenter.success(
        {
            "totalresults": len(notes),
            "notes": {"note": [write.listed_note(note) for note in notes]},
        }
    )


def get_ticket_attachment(call: Call) -> Response:
    """One file of a ticket's opening message, a reply or a note, as base64."""
    fields, settings = call.fields, call.settings
    try:
        found = attachment_file(
            db.session(),
            fields.get("type"),
            fields.get("relatedid"),
            fields.get("index"),
            settings.attachments_dir,
        )
        try:
            data = found.path.read_bytes()
        except OSError as gone:
            raise AttachmentNotFound([FieldError(("index",), ATTACHMENTS_DELETED)]) from gone
    except TicketError as problem:
        return call.error(problem)
    return call.presenter.success(
        {"filename": found.attachment.original_name, "data": base64.b64encode(data).decode()}
    )


def _filter_id(value: str | None) -> int | None:
    """A filter's id as PHP's `if ($deptid)` reads it: 0 or none is no filter; an id no row can
    have filters everything out."""
    number = php_int(value)
    if not number:
        return None
    return number if 0 < number <= MAX_ROW_ID else -1


ACTIONS: dict[str, Action] = {
    "getsupportdepartments": get_support_departments,
    "getsupportstatuses": get_support_statuses,
    "getticket": get_ticket,
    "gettickets": get_tickets,
    "getticketcounts": get_ticket_counts,
    "getticketnotes": get_ticket_notes,
    "getticketattachment": get_ticket_attachment,
}
