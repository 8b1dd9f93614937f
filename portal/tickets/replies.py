"""add_reply(): WHMCS's AddTicketReply in plain Python; it flushes, the caller commits."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.mail import outbox
from portal.models import (
    Editor,
    StaffMember,
    Ticket,
    TicketReply,
    TicketStatus,
    User,
    utcnow,
)
from portal.rendering import rendered_for_storage
from portal.tickets import access, errors, inputs, parameters, requesters, statuses
from portal.tickets.attachments import IncomingFile
from portal.tickets.errors import FieldError, NotAllowed, ReplyError
from portal.tickets.opening import MAX_EMAIL, MAX_NAME
from portal.tickets.settings import TicketSettings


@dataclass
class ReplyRequest:
    """AddTicketReply's parameters (API strings or typed values from a form)."""

    message: object = None
    markdown: bool = False
    clientid: object = None
    contactid: object = None
    name: str | None = None
    email: str | None = None
    status: object = None
    created: object = None
    noemail: bool = False
    # base64 of a JSON array of {name, data}.
    attachments: str | None = None
    uploads: Sequence[IncomingFile] = ()
    # The client area's reply form: the requester writes, signed in or as the ticket's guest;
    # they choose neither the status nor the time.
    client_area: bool = False
    signed_in_user: User | None = None


@dataclass(frozen=True)
class _Author:
    name: str = ""
    email: str = ""
    user_id: int | None = None
    contact_id: int | None = None
    staff: StaffMember | None = None


def add_reply(
    session: Session,
    ticket: Ticket,
    request: ReplyRequest,
    settings: TicketSettings,
    *,
    staff: StaffMember | None = None,
) -> TicketReply:
    """Add a reply by `staff`, a client or a guest; raises ReplyError, leaving nothing behind."""
    found: list[FieldError] = []
    author, email_problem = _author(session, ticket, request, staff, found)
    message = inputs.message(request.message, found)
    if email_problem:
        found.append(email_problem)
    chosen = None
    if not request.client_area and str(request.status or "").strip():
        chosen = statuses.parse(request.status)
        if chosen is None:
            found.append(FieldError(("status",), errors.INVALID_TICKET_STATUS))
    given_time = None if request.client_area else request.created
    created = inputs.created(given_time, settings, found, in_future=errors.REPLY_DATE_IN_FUTURE)
    files = inputs.acceptable_files(request.uploads, request.attachments, settings, found)
    if found:
        raise ReplyError(found)

    message_html, renderer = rendered_for_storage(message, request.markdown)
    reply = TicketReply(
        ticket=ticket,
        user_id=author.user_id,
        contact_id=author.contact_id,
        staff=author.staff,
        name=author.name,
        email=author.email,
        message=message,
        message_html=message_html,
        message_renderer=renderer,
        editor=(Editor.MARKDOWN if request.markdown else Editor.PLAIN).value,
        created_at=created,
    )
    session.add(reply)
    reply.attachments = inputs.store_files(
        session, settings, files, ReplyError, ticket_id=ticket.id
    )
    by_staff = author.staff is not None
    after = statuses.after_reply(by_staff=by_staff, chosen=chosen)
    set_status(ticket, after, by=author.name, at=created)
    ticket.last_reply_at = created
    ticket.last_reply_name = author.name
    ticket.last_reply_staff = by_staff
    session.flush()
    if not request.noemail:
        outbox.queue_reply(session, reply)
    session.flush()
    return reply


def set_status(
    ticket: Ticket, status: TicketStatus, *, by: str, at: datetime | None = None
) -> None:
    """Change the status as of `at` (now by default), recording a closing (when and by whom) or
    forgetting it on reopening; the ticket counts as updated either way (a backdated change
    never moves its last update back)."""
    at = at or utcnow()
    ticket.updated_at = max(at, ticket.updated_at) if ticket.updated_at else at
    if status == ticket.status:
        return
    ticket.status = status.value
    if status is TicketStatus.CLOSED:
        ticket.closed_at, ticket.closed_by_name = at, by
    else:
        ticket.closed_at, ticket.closed_by_name = None, ""


def _author(
    session: Session,
    ticket: Ticket,
    request: ReplyRequest,
    staff: StaffMember | None,
    found: list[FieldError],
) -> tuple[_Author, FieldError | None]:
    """Who writes, in WHMCS's order: staff, a client (or its contact), then a named guest."""
    if request.client_area:
        return _requester_on_page(session, ticket, request.signed_in_user), None
    if staff is not None:
        return _Author(name=staff.name, staff=staff), None
    clientid = parameters.php_int(request.clientid)
    if clientid:
        return _client_author(session, request, clientid, found), None
    name = (request.name or "").replace("\x00", "").strip()
    email = (request.email or "").strip()
    if not name or not email:
        missing = tuple(f for f, v in (("name", name), ("email", email)) if not v)
        found.append(FieldError(missing, errors.NAME_AND_EMAIL_REQUIRED))
        return _Author(), None
    if len(name) > MAX_NAME:
        found.append(FieldError(("name",), errors.too_long("Name", MAX_NAME)))
    if len(email) > MAX_EMAIL or not inputs.valid_email(email):
        return _Author(name, email), FieldError(("email",), errors.EMAIL_INVALID)
    return _Author(name, email), None


def _requester_on_page(session: Session, ticket: Ticket, user: User | None) -> _Author:
    """The client area's author: a user of the ticket's account, or the ticket's own guest."""
    if ticket.client_id is None:
        # A guest's ticket is answered as that guest, whoever else may be signed in.
        return _Author(ticket.name, ticket.email)
    if user is None or not access.is_member(session, user, ticket.client_id):
        raise NotAllowed([FieldError((), errors.NOT_YOUR_TICKET)])
    return _Author(user.name, user.email, user_id=user.id)


def _client_author(
    session: Session, request: ReplyRequest, clientid: int, found: list[FieldError]
) -> _Author:
    client = requesters.account_by_id(session, parameters.row_id(clientid))
    if client is None:
        found.append(FieldError(("clientid",), errors.CLIENT_NOT_FOUND))
        return _Author()
    contactid = parameters.php_int(request.contactid)
    if contactid:
        contact = requesters.account_contact(session, client.id, parameters.row_id(contactid))
        if contact is None:
            found.append(FieldError(("contactid",), errors.CONTACT_NOT_FOUND))
            return _Author()
        return _Author(contact.name, contact.email, contact_id=contact.id)
    owner = requesters.account_owner(session, client.id)
    if owner is None:
        return _Author(client.name, client.email)
    return _Author(owner.name, owner.email, user_id=owner.id)
