"""open_ticket(): WHMCS's OpenTicket in plain Python; it writes and flushes, the caller commits."""

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.mail import outbox
from portal.models import (
    Attachment,
    ClientAccount,
    CustomField,
    CustomFieldType,
    CustomFieldValue,
    Department,
    Domain,
    Editor,
    Service,
    StaffMember,
    Ticket,
    TicketStatus,
    User,
    utcnow,
)
from portal.rendering import rendered_for_storage
from portal.tickets import access, attachments, errors, numbers, parameters, requesters
from portal.tickets.attachments import FileRefused, FileTooLarge, IncomingFile, StoredFile
from portal.tickets.departments import department_with_fields, fields_filled_in, may_use_department
from portal.tickets.errors import FieldError, OpenTicketError
from portal.tickets.requesters import Requester
from portal.tickets.settings import TicketSettings

MAX_SUBJECT = 255
MAX_NAME = 200
MAX_EMAIL = 254
MAX_MESSAGE = 100_000
MAX_CUSTOM_FIELD_VALUE = 10_000
# Candidate numbers drawn, and inserts tried, before a mask counts as used up. Drawing costs no
# statement, so a crowded one-digit mask still finds its last free number.
NUMBER_DRAWS = 1000
NUMBER_INSERTS = 50
TRUE_TICKBOX_VALUES = frozenset({"on", "1", "true", "yes"})


@dataclass
class OpenTicketRequest:
    """OpenTicket's parameters as WHMCS takes them: API strings or typed values from forms."""

    deptid: object = None
    subject: str | None = None
    message: str | None = None
    clientid: object = None
    userid: object = None
    contactid: object = None
    name: str | None = None
    email: str | None = None
    priority: str | None = None
    created: str | datetime | None = None
    serviceid: object = None
    domainid: object = None
    admin: bool = False
    noemail: bool = False
    markdown: bool = False
    # base64 of a PHP-serialized array or JSON object, or {field id: value} from a form.
    customfields: str | Mapping | None = None
    # base64 of a JSON array of {name, data}.
    attachments: str | None = None
    uploads: Sequence[IncomingFile] = ()
    prevent_client_closure: bool | None = None
    # WHMCS's API stores custom fields unchecked; its client and admin areas enforce the
    # department's rules (required, regex, options), and only staff reach admin-only fields.
    check_custom_fields: bool = False
    # The client area's rules: a clients-only department needs a signed-in user, and a
    # signed-in user writes as themselves, for one of their own accounts (clientid).
    client_area: bool = False
    signed_in_user: User | None = None


def open_ticket(
    session: Session,
    request: OpenTicketRequest,
    settings: TicketSettings,
    *,
    acting_staff: StaffMember | None = None,
) -> Ticket:
    """Open a ticket or raise OpenTicketError, leaving nothing in the session or on disk."""
    found: list[FieldError] = []
    requester, client = _requester(session, request, found)
    department = department_with_fields(session, parameters.row_id(request.deptid))
    if department is None:
        found.append(FieldError(("deptid",), errors.DEPARTMENT_NOT_FOUND))
    elif request.client_area and not may_use_department(department, request.signed_in_user):
        found.append(FieldError(("deptid",), errors.LOGIN_TO_USE))
    subject = _text(request.subject, "subject", "Subject", MAX_SUBJECT, found)
    message = _text(request.message, "message", "Message", MAX_MESSAGE, found, strip=False)
    field_values: dict[int, str] = {}
    if department is not None:
        given = parameters.decode_custom_fields(request.customfields)
        field_values = _custom_field_values(department, given, request, found)
    created = _created(request.created, settings, found)
    service_id, domain_id = _related_record(session, request, client, found)
    files = _acceptable_files(request, settings, found)
    if found or department is None:
        raise OpenTicketError(found)

    message_html, renderer = rendered_for_storage(message, request.markdown)
    ticket = Ticket(
        access_code=numbers.new_access_code(),
        department=department,
        client_id=requester.client_id,
        user_id=requester.user_id,
        contact_id=requester.contact_id,
        name=requester.name,
        email=requester.email,
        cc=requester.cc,
        subject=subject,
        message=message,
        message_html=message_html,
        message_renderer=renderer,
        status=TicketStatus.OPEN.value,
        priority=parameters.priority(request.priority).value,
        created_at=created,
        last_reply_at=created,
        opened_by=acting_staff if request.admin else None,
        service_id=service_id,
        domain_id=domain_id,
        editor=(Editor.MARKDOWN if request.markdown else Editor.PLAIN).value,
        prevent_client_closure=(
            department.prevent_client_closure
            if request.prevent_client_closure is None
            else bool(request.prevent_client_closure)
        ),
        email_suppressed=bool(request.noemail),
        custom_field_values=[
            CustomFieldValue(field_id=field_id, value=value)
            for field_id, value in field_values.items()
        ],
    )
    stored: list[StoredFile] = []
    try:
        for name, incoming in files:
            stored.append(_store(session, settings, incoming, name))
        ticket.attachments = [
            Attachment(
                original_name=file.original_name,
                stored_name=file.stored_name,
                size=file.size,
                content_type=file.content_type,
                sha256=file.sha256,
            )
            for file in stored
        ]
        _add_numbered(session, ticket, settings)
    except OpenTicketError:
        attachments.discard_files(settings.attachments_dir, stored)
        raise
    if not request.noemail:
        outbox.queue_ticket_opened(session, ticket, by_staff=request.admin)
    session.flush()
    return ticket


def _requester(
    session: Session, request: OpenTicketRequest, found: list[FieldError]
) -> tuple[Requester, ClientAccount | None]:
    if request.client_area and request.signed_in_user is not None:
        return _signed_in_requester(session, request, request.signed_in_user, found)
    clientid = parameters.php_int(request.clientid)
    if clientid:
        return _client_requester(session, request, clientid, found)
    name = (request.name or "").replace("\x00", "").strip()
    email = (request.email or "").strip()
    if not name or not email:
        missing = tuple(f for f, v in (("name", name), ("email", email)) if not v)
        found.append(FieldError(missing, errors.NAME_AND_EMAIL_REQUIRED))
        return Requester(), None
    if len(name) > MAX_NAME:
        found.append(FieldError(("name",), errors.too_long("Name", MAX_NAME)))
    if len(email) > MAX_EMAIL or not _valid_email(email):
        found.append(FieldError(("email",), errors.EMAIL_INVALID))
    return Requester(name=name, email=email), None


def _signed_in_requester(
    session: Session, request: OpenTicketRequest, user: User, found: list[FieldError]
) -> tuple[Requester, ClientAccount | None]:
    """A client user writes as themselves, for one of their accounts when they have any."""
    accounts = access.accounts_for_user(session, user)
    if not accounts:
        return Requester(name=user.name, email=user.email), None
    client_id = parameters.row_id(request.clientid)
    client = next((account for account in accounts if account.id == client_id), None)
    if client is None:
        found.append(FieldError(("account",), errors.NOT_YOUR_ACCOUNT))
        return Requester(), None
    return Requester(client.id, user.id, name=user.name, email=user.email), client


def _client_requester(
    session: Session, request: OpenTicketRequest, clientid: int, found: list[FieldError]
) -> tuple[Requester, ClientAccount | None]:
    client_key = parameters.row_id(clientid)
    client = session.get(ClientAccount, client_key) if client_key is not None else None
    if client is None:
        found.append(FieldError(("clientid",), errors.CLIENT_NOT_FOUND))
        return Requester(), None
    userid = parameters.php_int(request.userid)
    contactid = parameters.php_int(request.contactid)
    if userid:
        user = requesters.account_member(session, client.id, parameters.row_id(userid))
        if user is None:
            found.append(FieldError(("userid",), errors.USER_NOT_FOUND))
            return Requester(client.id), client
        return Requester(client.id, user.id, name=user.name, email=user.email), client
    if contactid:
        contact = requesters.account_contact(session, client.id, parameters.row_id(contactid))
        if contact is None:
            found.append(FieldError(("contactid",), errors.CONTACT_NOT_FOUND))
            return Requester(client.id), client
        # WHMCS copies a contact's address into the ticket's CC.
        return (
            Requester(
                client.id,
                contact_id=contact.id,
                name=contact.name,
                email=contact.email,
                cc=contact.email,
            ),
            client,
        )
    # WHMCS makes the account owner the requestor when no user or contact is named; an account
    # without an owner writes as itself.
    owner = requesters.account_owner(session, client.id)
    if owner is None:
        return Requester(client.id, name=client.name, email=client.email), client
    return Requester(client.id, owner.id, name=owner.name, email=owner.email), client


def _valid_email(email: str) -> bool:
    try:
        # Local parts in ASCII, as PHP's FILTER_VALIDATE_EMAIL (WHMCS's check) has them: every
        # address then fits a 7bit message; domains may be internationalised.
        validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return True


def _text(
    value: str | None,
    field_name: str,
    label: str,
    limit: int,
    found: list[FieldError],
    *,
    strip: bool = True,
) -> str:
    # PostgreSQL cannot store NUL characters, and no reader would miss one.
    text = "" if value is None else str(value).replace("\x00", "")
    if not text.strip():
        found.append(FieldError((field_name,), f"{label} is required"))
        return ""
    text = text.strip() if strip else text
    if len(text) > limit:
        found.append(FieldError((field_name,), errors.too_long(label, limit)))
    return text


def _custom_field_values(
    department: Department,
    values: dict[int, str],
    request: OpenTicketRequest,
    found: list[FieldError],
) -> dict[int, str]:
    """The values to store for the department's fields, checked when the request asks for it."""
    kept: dict[int, str] = {}
    fields = (
        fields_filled_in(department.custom_fields, staff=request.admin)
        if request.check_custom_fields
        else department.custom_fields
    )
    for custom_field in fields:
        value = values.get(custom_field.id, "").strip()
        if custom_field.field_type == CustomFieldType.TICKBOX:
            value = "on" if value.lower() in TRUE_TICKBOX_VALUES else ""
        if request.check_custom_fields:
            problem = _custom_field_problem(custom_field, value)
        elif len(value) > MAX_CUSTOM_FIELD_VALUE:
            problem = errors.too_long(custom_field.name, MAX_CUSTOM_FIELD_VALUE)
        else:
            problem = None
        if problem:
            found.append(FieldError((f"customfield[{custom_field.id}]",), problem))
        if value or custom_field.id in values:
            kept[custom_field.id] = value
    return kept


def _custom_field_problem(custom_field: CustomField, value: str) -> str | None:
    if not value:
        return f"{custom_field.name} is required" if custom_field.required else None
    if len(value) > MAX_CUSTOM_FIELD_VALUE:
        return errors.too_long(custom_field.name, MAX_CUSTOM_FIELD_VALUE)
    if custom_field.field_type == CustomFieldType.DROPDOWN and value not in custom_field.choices:
        return f"{custom_field.name}: choose one of the listed options"
    if custom_field.field_type == CustomFieldType.LINK and not re.match(
        r"https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE
    ):
        return f"{custom_field.name} must be a link starting with http:// or https://"
    pattern = _php_regex(custom_field.validation_regex)
    if pattern is not None and not pattern.search(value):
        return f"{custom_field.name} is not in the expected format"
    return None


def _php_regex(expression: str) -> re.Pattern | None:
    """WHMCS keeps PCRE with delimiters (`/^\\d+$/i`); Python's re takes the inside."""
    if not expression:
        return None
    flags = 0
    if len(expression) > 2 and expression[0] in "/#~" and expression[0] in expression[1:]:
        delimiter = expression[0]
        body, _, modifiers = expression[1:].rpartition(delimiter)
        expression = body
        flags |= re.IGNORECASE if "i" in modifiers else 0
        flags |= re.MULTILINE if "m" in modifiers else 0
    try:
        return re.compile(expression, flags)
    except re.error:
        return None


def _created(value: object, settings: TicketSettings, found: list[FieldError]) -> datetime:
    now = utcnow()
    if value is None or (isinstance(value, str) and not value.strip()):
        return now
    try:
        moment = parameters.parse_created(value, settings.timezone)
        # Year 1 or 9999 with an offset falls outside datetime's range once converted.
        created = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, TypeError, OverflowError):
        found.append(FieldError(("created",), errors.INVALID_DATE_FORMAT))
        return now
    if created > now:
        found.append(FieldError(("created",), errors.DATE_IN_FUTURE))
    return created


def _related_record(
    session: Session,
    request: OpenTicketRequest,
    client: ClientAccount | None,
    found: list[FieldError],
) -> tuple[int | None, int | None]:
    """The ids of the one service or domain the ticket concerns; a service wins over a domain."""
    for field, record, missing in (
        ("serviceid", Service, errors.SERVICE_NOT_FOUND),
        ("domainid", Domain, errors.DOMAIN_NOT_FOUND),
    ):
        given = getattr(request, field)
        if not parameters.php_int(given):
            continue
        owned = None
        if client is not None:
            owned = requesters.owned_by(session, record, client, parameters.row_id(given))
        if owned is None:
            found.append(FieldError((field,), missing))
        return (owned, None) if record is Service else (None, owned)
    return None, None


def _acceptable_files(
    request: OpenTicketRequest, settings: TicketSettings, found: list[FieldError]
) -> list[tuple[str, IncomingFile]]:
    incoming = list(request.uploads)
    if request.attachments:
        try:
            decoded = parameters.decode_attachment_list(request.attachments)
        except ValueError:
            found.append(FieldError(("attachments",), errors.ATTACHMENTS_UNDECODABLE))
            return []
        incoming += [IncomingFile.from_bytes(name, data) for name, data in decoded]
    accepted = []
    for upload in incoming:
        name = attachments.safe_name(upload.name)
        # Looked at now, so that every refusal is told at once; store() checks again.
        head = attachments.peek(upload.stream)
        problem = attachment_problem(name, _known_size(upload), settings, head)
        if problem:
            found.append(FieldError(("attachments",), problem))
        else:
            accepted.append((name, upload))
    return accepted


def attachment_problem(
    name: str, size: int, settings: TicketSettings, head: bytes | None = None
) -> str | None:
    """Why a file of this name and size, and these first bytes when known, cannot be attached,
    or None when it can."""
    name = attachments.safe_name(name)
    problem = attachments.refusal(name, settings.allowed_extensions)
    if problem is None and size > settings.max_attachment_bytes:
        problem = attachments.too_large(name, settings.max_attachment_bytes)
    if problem is None and head is not None:
        problem = attachments.content_refusal(name, head)
    return problem


def _known_size(upload: IncomingFile) -> int:
    """The size of a seekable (spooled) upload; unknown sizes are checked while copying."""
    stream = upload.stream
    try:
        if not stream.seekable():
            return 0
        position = stream.tell()
        size = stream.seek(0, 2)
        stream.seek(position)
    except (AttributeError, OSError):
        return 0
    return size - position


def _store(
    session: Session, settings: TicketSettings, incoming: IncomingFile, name: str
) -> StoredFile:
    try:
        return attachments.store(
            session, settings.attachments_dir, incoming, name, settings.max_attachment_bytes
        )
    except FileTooLarge as too_big:
        message = attachments.too_large(name, settings.max_attachment_bytes)
        raise OpenTicketError([FieldError(("attachments",), message)]) from too_big
    except FileRefused as refused:
        raise OpenTicketError([FieldError(("attachments",), refused.message)]) from refused


def _add_numbered(session: Session, ticket: Ticket, settings: TicketSettings) -> None:
    """Add and flush the ticket under a free tid from the mask; the unique index settles races.

    Each insert is tried in a savepoint, so a taken number undoes that insert alone. A refused
    ticket leaves nothing in the session.
    """
    today = datetime.now(settings.timezone)
    if not numbers.mask_uses_id(settings.mask):
        if not _flush_under_free_number(session, ticket, settings.mask, today, add=True):
            raise OpenTicketError([FieldError(("tid",), errors.UNABLE_TO_GENERATE_NUMBER)])
        return
    # %i needs the row's id: the row goes in first under a placeholder nobody can type.
    placeholder = session.begin_nested()
    ticket.tid = "#" + secrets.token_hex(15)
    session.add(ticket)
    session.flush()
    if not _flush_under_free_number(session, ticket, settings.mask, today, add=False):
        placeholder.rollback()
        raise OpenTicketError([FieldError(("tid",), errors.UNABLE_TO_GENERATE_NUMBER)])
    placeholder.commit()


def _flush_under_free_number(
    session: Session, ticket: Ticket, mask: str, today: datetime, *, add: bool
) -> bool:
    taken: set[str] = set()
    inserts = 0
    for _ in range(NUMBER_DRAWS):
        candidate = numbers.render_mask(mask, today, ticket.id)
        if not candidate or candidate in taken:
            continue
        try:
            with session.begin_nested():
                ticket.tid = candidate
                if add:
                    session.add(ticket)
                session.flush()
            return True
        except IntegrityError:
            # A savepoint's rollback takes a pending ticket out of the session; it is added
            # again with the next number.
            if not _tid_taken(session, candidate):
                raise
            taken.add(candidate)
            inserts += 1
            if inserts >= NUMBER_INSERTS:
                return False
    return False


def _tid_taken(session: Session, tid: str) -> bool:
    # A locking read sees the row a concurrent transaction committed since this one's snapshot
    # (MariaDB's REPEATABLE READ would hide it from a plain one).
    taken = select(Ticket.id).where(Ticket.tid == tid).with_for_update(read=True)
    return session.scalar(taken) is not None
