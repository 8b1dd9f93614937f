"""open_ticket(): WHMCS's OpenTicket in plain Python; it writes, the caller commits."""

import functools
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.mail import outbox
from portal.models import (
    Attachment,
    CustomFieldType,
    CustomFieldValue,
    Editor,
    StaffMember,
    Ticket,
    TicketStatus,
    full_name,
    utcnow,
)
from portal.tickets import attachments, errors, numbers, parameters, requesters
from portal.tickets.attachments import FileTooLarge, IncomingFile, StoredFile
from portal.tickets.departments import (
    DepartmentRules,
    FieldRules,
    department_rules,
    fields_filled_in,
)
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
NUMBER_SINGLE_TRIES = 3
INSERT_FIELD_VALUE = insert(CustomFieldValue.__table__)
INSERT_ATTACHMENT = insert(Attachment.__table__)
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
    session: Session = field(repr=False, compare=False)

    @property
    def ticket(self) -> Ticket:
        """The ticket's row, loaded only when a caller wants more than its id, tid and code."""
        return self.session.get(Ticket, self.id)


@dataclass
class _Requester:
    client_id: int | None = None
    user_id: int | None = None
    contact_id: int | None = None
    name: str = ""
    email: str = ""
    cc: str = ""
    # The service and domain named in the request, when this client owns them.
    owned_service_id: int | None = None
    owned_domain_id: int | None = None


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
    department_id = parameters.row_id(request.deptid)
    # The requester first: a client's look-up reads the department's rules too.
    requester = _requester(session, request, department_id, found)
    department = _department(session, department_id, found)
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
    service_id, domain_id = _related_record(request, requester, found)
    files = _acceptable_files(request, settings, found)
    if found:
        raise OpenTicketError(found)

    values = {
        "access_code": numbers.new_access_code(),
        "department_id": department.id,
        "client_id": requester.client_id,
        "user_id": requester.user_id,
        "contact_id": requester.contact_id,
        "name": requester.name,
        "email": requester.email,
        "cc": requester.cc,
        "subject": subject,
        "message": message,
        "status": TicketStatus.OPEN.value,
        "priority": priority,
        "created_at": created,
        "last_reply_at": created,
        "opened_by_staff_id": _id_of(acting_staff) if request.admin else None,
        "service_id": service_id,
        "domain_id": domain_id,
        "editor": (Editor.MARKDOWN if request.markdown else Editor.PLAIN).value,
        "prevent_client_closure": (
            department.prevent_client_closure
            if request.prevent_client_closure is None
            else bool(request.prevent_client_closure)
        ),
        "email_suppressed": bool(request.noemail),
        # In the ticket's own row: the ticket and its email are committed, or rolled back,
        # together.
        "mail_queued": None
        if request.noemail
        else outbox.ticket_opened_mail(
            department, requester_email=requester.email, by_staff=request.admin
        ),
    }
    written: list[StoredFile] = []
    try:
        for name, incoming in files:
            written.append(_store(session, settings, incoming, name))
        values["id"], values["tid"] = _insert_numbered(session, values, settings)
    except OpenTicketError:
        for stored in written:
            attachments.stored_path(settings.attachments_dir, stored.stored_name).unlink(
                missing_ok=True
            )
        raise
    # Core inserts, not the unit of work: sorting and instrumenting a flush cost more than the
    # rest of opening a ticket (bench/README.md).
    if field_values:
        session.connection().execute(
            INSERT_FIELD_VALUE,
            [
                {"ticket_id": values["id"], "field_id": field_id, "value": value}
                for field_id, value in field_values.items()
            ],
        )
    if written:
        session.connection().execute(
            INSERT_ATTACHMENT,
            [
                {
                    "ticket_id": values["id"],
                    "original_name": stored.original_name,
                    "stored_name": stored.stored_name,
                    "size": stored.size,
                    "content_type": stored.content_type,
                    "sha256": stored.sha256,
                }
                for stored in written
            ],
        )
    if values["mail_queued"]:
        outbox.remember_queued(session, values["id"])
    return OpenedTicket(values["id"], values["tid"], values["access_code"], session)


def _requester(
    session: Session, request: OpenTicketRequest, department_id: int | None, found: list[FieldError]
) -> _Requester:
    clientid = parameters.php_int(request.clientid)
    if clientid:
        return _client_requester(session, request, clientid, department_id, found)
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
    session: Session,
    request: OpenTicketRequest,
    clientid: int,
    department_id: int | None,
    found: list[FieldError],
) -> _Requester:
    client_key = parameters.row_id(clientid)
    userid = parameters.php_int(request.userid)
    contactid = parameters.php_int(request.contactid)
    # Looked up with the account, one statement for all. _related_record decides whether the
    # service and domain count, _department whether the department does.
    related = {
        "department_id": department_id,
        "service_id": parameters.row_id(request.serviceid),
        "domain_id": parameters.row_id(request.domainid),
    }
    if client_key is None:
        row = None
    elif userid:
        row = requesters.client_with_user(session, client_key, parameters.row_id(userid), **related)
    elif contactid:
        row = requesters.client_with_contact(
            session, client_key, parameters.row_id(contactid), **related
        )
    else:
        # WHMCS makes the account owner the requestor when no user or contact is named.
        row = requesters.client_with_owner(session, client_key, **related)
    if row is None:
        found.append(FieldError(("clientid",), errors.CLIENT_NOT_FOUND))
        return _Requester()
    account = {
        "client_id": row.client_id,
        "owned_service_id": row.owned_service_id,
        "owned_domain_id": row.owned_domain_id,
    }
    if row.id is None:
        if userid:
            found.append(FieldError(("userid",), errors.USER_NOT_FOUND))
        elif contactid:
            found.append(FieldError(("contactid",), errors.CONTACT_NOT_FOUND))
        else:  # an account without an owner writes as itself
            name = full_name(row.client_first_name, row.client_last_name)
            return _Requester(**account, name=name, email=row.client_email)
        return _Requester(**account)
    name = full_name(row.first_name, row.last_name)
    if contactid and not userid:
        return _Requester(**account, contact_id=row.id, name=name, email=row.email, cc=row.email)
    return _Requester(**account, user_id=row.id, name=name, email=row.email)


def _valid_email(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _department(
    session: Session, department_id: int | None, found: list[FieldError]
) -> DepartmentRules | None:
    department = department_rules(session, department_id) if department_id else None
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
    department: DepartmentRules,
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


def _custom_field_problem(custom_field: FieldRules, value: str) -> str | None:
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
    request: OpenTicketRequest, requester: _Requester, found: list[FieldError]
) -> tuple[int | None, int | None]:
    """The ids of the one service or domain the ticket concerns; a service wins over a domain."""
    if parameters.php_int(request.serviceid):
        if requester.owned_service_id is None:
            found.append(FieldError(("serviceid",), errors.SERVICE_NOT_FOUND))
        return requester.owned_service_id, None
    if parameters.php_int(request.domainid):
        if requester.owned_domain_id is None:
            found.append(FieldError(("domainid",), errors.DOMAIN_NOT_FOUND))
        return None, requester.owned_domain_id
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


def _id_of(record) -> int | None:
    return None if record is None else record.id


def _insert_numbered(session: Session, values: dict, settings: TicketSettings) -> tuple[int, str]:
    """Insert the ticket under a free tid from the mask; the unique index settles races."""
    today = datetime.now(settings.timezone)
    if numbers.mask_uses_id(settings.mask):
        return _insert_numbered_by_id(session, values, settings.mask, today)
    insert_under = _tid_inserter(session, values)
    # A random candidate is almost always free: try a few alone, one statement each, before
    # asking which of a batch are taken (what a crowded mask needs).
    for _ in range(NUMBER_SINGLE_TRIES):
        candidate = numbers.render_mask(settings.mask, today)
        ticket_id = insert_under(candidate) if candidate else None
        if ticket_id is not None:
            return ticket_id, candidate
    for _ in range(NUMBER_ROUNDS):
        for candidate in _free_candidates(session, settings.mask, today, None):
            ticket_id = insert_under(candidate)
            if ticket_id is not None:
                return ticket_id, candidate
    raise OpenTicketError([FieldError(("tid",), errors.UNABLE_TO_GENERATE_NUMBER)])


def _free_candidates(session: Session, mask: str, today: datetime, ticket_id: int | None):
    candidates = list(
        dict.fromkeys(
            numbers.render_mask(mask, today, ticket_id) for _ in range(NUMBER_CANDIDATES_PER_ROUND)
        )
    )
    taken = set(session.scalars(select(Ticket.tid).where(Ticket.tid.in_(candidates))))
    return [c for c in candidates if c and c not in taken]


def _tid_inserter(session: Session, values: dict):
    """A function inserting the ticket under a tid: its id, or None when the tid is taken."""
    table = Ticket.__table__
    statement = _insert_unless_taken(session.get_bind().dialect.name)
    if statement is not None:
        connection = session.connection()
        return lambda tid: connection.execute(statement, {**values, "tid": tid}).scalar()

    def insert_in_savepoint(tid: str) -> int | None:
        try:
            with session.begin_nested():
                result = session.execute(insert(table), {**values, "tid": tid})
        except IntegrityError:
            return None  # taken by a concurrent transaction since the check
        return result.inserted_primary_key[0]

    return insert_in_savepoint


@functools.cache
def _insert_unless_taken(dialect: str):
    """INSERT ... ON CONFLICT (tid) DO NOTHING RETURNING id, where the database has it.

    A taken tid then inserts nothing and raises nothing, so no savepoint is needed. Built once
    per dialect: building the statement cost a third as much as running it.
    """
    upsert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}.get(dialect)
    if upsert is None:
        return None
    table = Ticket.__table__
    return upsert(table).on_conflict_do_nothing(index_elements=["tid"]).returning(table.c.id)


def _insert_numbered_by_id(
    session: Session, values: dict, mask: str, today: datetime
) -> tuple[int, str]:
    """%i needs the row's id, so the row goes in first under a placeholder nobody can type."""
    table = Ticket.__table__
    outer = session.begin_nested()
    ticket_id = session.execute(
        insert(table), {**values, "tid": "#" + secrets.token_hex(15)}
    ).inserted_primary_key[0]
    for _ in range(NUMBER_ROUNDS):
        for candidate in _free_candidates(session, mask, today, ticket_id):
            try:
                with session.begin_nested():
                    session.execute(
                        update(table).where(table.c.id == ticket_id).values(tid=candidate)
                    )
            except IntegrityError:
                continue  # taken by a concurrent transaction since the check
            outer.commit()
            return ticket_id, candidate
    outer.rollback()
    raise OpenTicketError([FieldError(("tid",), errors.UNABLE_TO_GENERATE_NUMBER)])
