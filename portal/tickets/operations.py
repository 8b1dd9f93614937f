"""open_ticket(): WHMCS's OpenTicket in plain Python; it flushes, the caller commits."""

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.mail import outbox
from portal.models import (
    AccountMembership,
    Attachment,
    ClientAccount,
    Contact,
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
from portal.tickets import attachments, errors, numbers, parameters
from portal.tickets.attachments import FileTooLarge, IncomingFile, StoredFile
from portal.tickets.errors import FieldError, OpenTicketError
from portal.tickets.settings import TicketSettings

MAX_SUBJECT = 255
MAX_NAME = 200
MAX_EMAIL = 254
MAX_MESSAGE = 100_000
MAX_CUSTOM_FIELD_VALUE = 10_000
# Rounds of candidate tids, each checked with one query; 500 draws find the last free
# number of a one-digit mask with a chance of failure below 1e-22.
NUMBER_ROUNDS = 20
NUMBER_CANDIDATES_PER_ROUND = 25
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


@dataclass(frozen=True)
class OpenedTicket:
    id: int
    tid: str
    c: str
    ticket: Ticket = field(repr=False, compare=False)

    def as_response(self) -> dict[str, object]:
        return {"result": "success", "id": self.id, "tid": self.tid, "c": self.c}


@dataclass
class _Requester:
    client: ClientAccount | None = None
    user: User | None = None
    contact: Contact | None = None
    name: str = ""
    email: str = ""
    cc: str = ""


def open_ticket(
    session: Session,
    request: OpenTicketRequest,
    settings: TicketSettings,
    *,
    acting_staff: StaffMember | None = None,
) -> OpenedTicket:
    """Open a ticket or raise OpenTicketError, leaving nothing in the session or on disk."""
    found: list[FieldError] = []
    field_values = parameters.decode_custom_fields(request.customfields)
    requester = _requester(session, request, found)
    department = _department(session, request.deptid, found)
    subject = _text(
        request.subject, "subject", "Subject", MAX_SUBJECT, found, missing=errors.SUBJECT_REQUIRED
    )
    message = _text(
        request.message,
        "message",
        "Message",
        MAX_MESSAGE,
        found,
        missing=errors.MESSAGE_REQUIRED,
        strip=False,
    )
    if department is not None:
        field_values = _custom_field_values(department, field_values, request, found)
    priority = parameters.priority(request.priority)
    created = _created(request.created, settings, found)
    service, domain = _related_record(session, request, requester.client, found)
    files = _acceptable_files(request, settings, found)
    if found:
        raise OpenTicketError(found)

    ticket = Ticket(
        access_code=numbers.new_access_code(),
        department=department,
        client=requester.client,
        user=requester.user,
        contact=requester.contact,
        name=requester.name,
        email=requester.email,
        cc=requester.cc,
        subject=subject,
        message=message,
        status=TicketStatus.OPEN,
        priority=priority,
        created_at=created,
        last_reply_at=created,
        opened_by=acting_staff if request.admin else None,
        service=service,
        domain=domain,
        editor=Editor.MARKDOWN if request.markdown else Editor.PLAIN,
        prevent_client_closure=(
            department.prevent_client_closure
            if request.prevent_client_closure is None
            else bool(request.prevent_client_closure)
        ),
        email_suppressed=bool(request.noemail),
    )
    written: list[StoredFile] = []
    try:
        for name, incoming in files:
            written.append(_store(session, settings, incoming, name))
        _number(session, ticket, settings)
        session.add_all(
            CustomFieldValue(ticket=ticket, field_id=field_id, value=value)
            for field_id, value in field_values.items()
        )
        session.add_all(
            Attachment(
                ticket=ticket,
                original_name=stored.original_name,
                stored_name=stored.stored_name,
                size=stored.size,
                content_type=stored.content_type,
                sha256=stored.sha256,
            )
            for stored in written
        )
        session.flush()
    except OpenTicketError:
        for stored in written:
            attachments.stored_path(settings.attachments_dir, stored.stored_name).unlink(
                missing_ok=True
            )
        raise
    # In this transaction: the ticket and its email are committed, or rolled back, together.
    outbox.queue_ticket_opened(session, ticket, settings, by_staff=request.admin)
    return OpenedTicket(ticket.id, ticket.tid, ticket.access_code, ticket)


def _requester(session: Session, request: OpenTicketRequest, found: list[FieldError]) -> _Requester:
    clientid = parameters.php_int(request.clientid)
    if clientid:
        return _client_requester(session, request, clientid, found)
    name = (request.name or "").replace("\x00", "").strip()
    email = (request.email or "").strip()
    if not name or not email:
        missing = tuple(f for f, v in (("name", name), ("email", email)) if not v)
        found.append(FieldError(missing, errors.NAME_AND_EMAIL_REQUIRED))
        return _Requester()
    if len(name) > MAX_NAME:
        found.append(FieldError(("name",), errors.too_long("Name", MAX_NAME)))
    if len(email) > MAX_EMAIL or not _valid_email(email):
        found.append(FieldError(("email",), errors.EMAIL_INVALID))
    return _Requester(name=name, email=email)


def _client_requester(
    session: Session, request: OpenTicketRequest, clientid: int, found: list[FieldError]
) -> _Requester:
    client_key = parameters.row_id(clientid)
    client = session.get(ClientAccount, client_key) if client_key else None
    if client is None:
        found.append(FieldError(("clientid",), errors.CLIENT_NOT_FOUND))
        return _Requester()
    userid = parameters.php_int(request.userid)
    contactid = parameters.php_int(request.contactid)
    if userid:
        user = _member(session, client.id, AccountMembership.user_id == parameters.row_id(userid))
        if user is None:
            found.append(FieldError(("userid",), errors.USER_NOT_FOUND))
            return _Requester(client=client)
        return _Requester(client=client, user=user, name=user.name, email=user.email)
    if contactid:
        contact = session.scalar(
            select(Contact).where(
                Contact.id == parameters.row_id(contactid), Contact.client_id == client.id
            )
        )
        if contact is None:
            found.append(FieldError(("contactid",), errors.CONTACT_NOT_FOUND))
            return _Requester(client=client)
        return _Requester(
            client=client, contact=contact, name=contact.name, email=contact.email, cc=contact.email
        )
    # WHMCS makes the account owner the requestor when no user or contact is named.
    owner = _member(session, client.id, AccountMembership.is_owner.is_(True))
    if owner is not None:
        return _Requester(client=client, user=owner, name=owner.name, email=owner.email)
    return _Requester(client=client, name=client.name, email=client.email)


def _member(session: Session, client_id: int, condition) -> User | None:
    return session.scalar(
        select(User)
        .join(AccountMembership, AccountMembership.user_id == User.id)
        .where(AccountMembership.client_id == client_id, condition)
        .limit(1)
    )


def _valid_email(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _department(session: Session, deptid: object, found: list[FieldError]) -> Department | None:
    key = parameters.row_id(deptid)
    department = session.get(Department, key) if key else None
    if department is None:
        found.append(FieldError(("deptid",), errors.DEPARTMENT_NOT_FOUND))
    return department


def _text(
    value: str | None,
    field_name: str,
    label: str,
    limit: int,
    found: list[FieldError],
    *,
    missing: str,
    strip: bool = True,
) -> str:
    # PostgreSQL cannot store NUL characters, and no reader would miss one.
    text = "" if value is None else str(value).replace("\x00", "")
    if not text.strip():
        found.append(FieldError((field_name,), missing))
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
        fields_for(department, staff=request.admin)
        if request.check_custom_fields
        else department.custom_fields
    )
    for custom_field in fields:
        value = values.get(custom_field.id, "").strip()
        if custom_field.field_type == CustomFieldType.TICKBOX:
            value = "on" if value.lower() in TRUE_TICKBOX_VALUES else ""
        if request.check_custom_fields:
            problem = _custom_field_problem(custom_field, value)
            if problem:
                found.append(FieldError((f"customfield[{custom_field.id}]",), problem))
        elif len(value) > MAX_CUSTOM_FIELD_VALUE:
            found.append(
                FieldError(
                    (f"customfield[{custom_field.id}]",),
                    errors.too_long(custom_field.name, MAX_CUSTOM_FIELD_VALUE),
                )
            )
        if value or custom_field.id in values:
            kept[custom_field.id] = value
    return kept


def fields_for(department: Department, *, staff: bool) -> list[CustomField]:
    """The department's custom fields a person fills in; admin-only ones are for staff alone."""
    return [f for f in department.custom_fields if staff or not f.admin_only]


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
) -> tuple[Service | None, Domain | None]:
    """The one service or domain the ticket concerns; a service named wins over a domain."""
    if parameters.php_int(request.serviceid):
        service = _owned(session, Service, request.serviceid, client)
        if service is None:
            found.append(FieldError(("serviceid",), errors.SERVICE_NOT_FOUND))
        return service, None
    if parameters.php_int(request.domainid):
        domain = _owned(session, Domain, request.domainid, client)
        if domain is None:
            found.append(FieldError(("domainid",), errors.DOMAIN_NOT_FOUND))
        return None, domain
    return None, None


def _owned(session: Session, model, value: object, client: ClientAccount | None):
    key = parameters.row_id(value)
    if client is None or key is None:
        return None
    return session.scalar(select(model).where(model.id == key, model.client_id == client.id))


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
        problem = attachment_problem(name, _known_size(upload), settings)
        if problem:
            found.append(FieldError(("attachments",), problem))
        else:
            accepted.append((name, upload))
    return accepted


def attachment_problem(name: str, size: int, settings: TicketSettings) -> str | None:
    """Why a file of this name and size cannot be attached, or None when it can."""
    problem = attachments.refusal(attachments.safe_name(name), settings.allowed_extensions)
    if problem is None and size > settings.max_attachment_bytes:
        problem = attachments.too_large(attachments.safe_name(name), settings.max_attachment_bytes)
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


def _number(session: Session, ticket: Ticket, settings: TicketSettings) -> None:
    """Give the ticket a free tid from the mask; the unique constraint settles races."""
    today = datetime.now(settings.timezone)
    uses_id = numbers.mask_uses_id(settings.mask)
    outer = session.begin_nested() if uses_id else None
    if uses_id:
        # %i needs the row's id, so the row goes in first under a placeholder nobody can type.
        ticket.tid = "#" + secrets.token_hex(15)
        session.add(ticket)
        session.flush()
    for _ in range(NUMBER_ROUNDS):
        candidates = list(
            dict.fromkeys(
                numbers.render_mask(settings.mask, today, ticket.id)
                for _ in range(NUMBER_CANDIDATES_PER_ROUND)
            )
        )
        taken = set(session.scalars(select(Ticket.tid).where(Ticket.tid.in_(candidates))))
        for candidate in candidates:
            if not candidate or candidate in taken:
                continue
            try:
                with session.begin_nested():
                    ticket.tid = candidate
                    session.add(ticket)
                    session.flush()
            except IntegrityError:
                continue  # taken by a concurrent transaction since the check
            if outer is not None:
                outer.commit()
            return
    if outer is not None:
        outer.rollback()
    raise OpenTicketError([FieldError(("tid",), errors.UNABLE_TO_GENERATE_NUMBER)])
