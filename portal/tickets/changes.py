"""update_ticket() and closing: WHMCS's UpdateTicket for staff, and the client's Close button."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.models import Department, Editor, Priority, StaffMember, Ticket, TicketStatus
from portal.rendering import rendered_for_storage
from portal.tickets import errors, inputs, parameters, requesters, statuses
from portal.tickets.errors import FieldError, NotAllowed, UpdateTicketError
from portal.tickets.opening import MAX_EMAIL, MAX_NAME, MAX_SUBJECT
from portal.tickets.replies import set_status
from portal.tickets.settings import TicketSettings

CLIENT_CLOSURE_PREVENTED = (
    "This ticket cannot be closed from here: our staff will close it once it is resolved."
)


@dataclass
class TicketChange:
    """UpdateTicket's parameters; None (or, as in PHP, an empty string) leaves a value as it is."""

    deptid: object = None
    status: object = None
    subject: object = None
    priority: object = None
    # Reassigns the ticket to a client account (its owner becomes the requester).
    userid: object = None
    name: object = None
    email: object = None
    cc: object = None
    created: object = None
    message: object = None
    markdown: bool | None = None
    prevent_client_closure: bool | None = None


def update_ticket(
    session: Session,
    ticket: Ticket,
    change: TicketChange,
    settings: TicketSettings,
    *,
    staff: StaffMember | None,
) -> Ticket:
    """Apply a staff member's change; raises UpdateTicketError, changing nothing."""
    found: list[FieldError] = []
    department = None
    if _given(change.deptid):
        department_key = parameters.row_id(change.deptid)
        department = session.get(Department, department_key) if department_key else None
        if department is None:
            found.append(FieldError(("deptid",), errors.DEPARTMENT_ID_NOT_FOUND))
    priority = None
    if _given(change.priority):
        priority = next((p for p in Priority if p.value == str(change.priority).strip()), None)
        if priority is None:
            message = errors.invalid_priority([p.value for p in Priority])
            found.append(FieldError(("priority",), message))
    status = None
    if _given(change.status):
        status = statuses.parse(change.status)
        if status is None:
            message = errors.invalid_status([s.value for s in TicketStatus])
            found.append(FieldError(("status",), message))
    created = None
    if _given(change.created):
        created = inputs.created(change.created, settings, found, in_future=errors.DATE_IN_FUTURE)
    client = None
    if _given(change.userid):
        client = requesters.account_by_id(session, parameters.row_id(change.userid))
        if client is None:
            found.append(FieldError(("userid",), errors.CLIENT_NOT_FOUND))
    texts = {
        name: inputs.text(getattr(change, name), name, label, limit, found)
        for name, label, limit in (
            ("subject", "Subject", MAX_SUBJECT),
            ("name", "Name", MAX_NAME),
            ("email", "Email", MAX_EMAIL),
        )
        if _given(getattr(change, name))
    }
    if "email" in texts and not inputs.valid_email(texts["email"]):
        found.append(FieldError(("email",), errors.EMAIL_INVALID))
    new_message = inputs.message(change.message, found) if _given(change.message) else None
    if found:
        raise UpdateTicketError(found)

    if department is not None and department.id != ticket.department_id:
        ticket.department = department
        if change.prevent_client_closure is None:
            # A ticket moved into a department that prevents closure inherits it.
            ticket.prevent_client_closure = (
                ticket.prevent_client_closure or department.prevent_client_closure
            )
    if change.prevent_client_closure is not None:
        ticket.prevent_client_closure = change.prevent_client_closure
    if priority is not None:
        ticket.priority = priority.value
    if client is not None:
        owner = requesters.account_owner(session, client.id)
        ticket.client_id, ticket.contact_id = client.id, None
        ticket.user_id = owner.id if owner else None
        ticket.name = owner.name if owner else client.name
        ticket.email = owner.email if owner else client.email
    for name, value in texts.items():
        setattr(ticket, name, value)
    if _given(change.cc):
        ticket.cc = str(change.cc).replace("\x00", "").strip()
    if created is not None:
        ticket.created_at = created
    if new_message is not None:
        markdown = ticket.is_markdown if change.markdown is None else change.markdown
        ticket.editor = (Editor.MARKDOWN if markdown else Editor.PLAIN).value
        ticket.message = new_message
        ticket.message_html, ticket.message_renderer = rendered_for_storage(new_message, markdown)
    by = staff.name if staff is not None else ""
    set_status(ticket, status or TicketStatus(ticket.status), by=by)
    session.flush()
    return ticket


def close_ticket(session: Session, ticket: Ticket, *, by: str) -> bool:
    """Close a ticket, recording when and by whom; False when it was closed already."""
    if ticket.is_closed:
        return False
    set_status(ticket, TicketStatus.CLOSED, by=by)
    session.flush()
    return True


def client_may_close(ticket: Ticket) -> bool:
    """Whether the client area offers Close: the ticket is open and closure is not prevented."""
    return not ticket.prevent_client_closure and not ticket.is_closed


def close_ticket_as_client(session: Session, ticket: Ticket, *, by: str) -> bool:
    """Close a ticket the caller may access; False when it was closed already."""
    if ticket.prevent_client_closure:
        raise NotAllowed([FieldError((), CLIENT_CLOSURE_PREVENTED)])
    return close_ticket(session, ticket, by=by)


def _given(value: object) -> bool:
    """PHP's `if ($value)` on a request parameter, which UpdateTicket uses: "" and None are not
    given, while "0" is (a department or client id of 0 is then not found)."""
    return value is not None and str(value).strip() != ""
