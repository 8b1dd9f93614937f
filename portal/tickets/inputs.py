"""What every message takes alike (opening, replying, noting): text, dates, addresses, files.

Each reader appends what is wrong to `found`, so that a request hears every broken rule at once,
in WHMCS's order of checking.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from portal.models import Attachment, utcnow
from portal.tickets import attachments, errors, parameters
from portal.tickets.attachments import FileRefused, FileTooLarge, IncomingFile, StoredFile
from portal.tickets.errors import FieldError, TicketError
from portal.tickets.settings import TicketSettings

MAX_MESSAGE = 100_000


def text(
    value: object,
    field_name: str,
    label: str,
    limit: int,
    found: list[FieldError],
    *,
    strip: bool = True,
) -> str:
    """A required text: blank counts as missing (`<label> is required`)."""
    # PostgreSQL cannot store NUL characters, and no reader would miss one.
    typed = "" if value is None else str(value).replace("\x00", "")
    if not typed.strip():
        found.append(FieldError((field_name,), f"{label} is required"))
        return ""
    typed = typed.strip() if strip else typed
    if len(typed) > limit:
        found.append(FieldError((field_name,), errors.too_long(label, limit)))
    return typed


def message(value: object, found: list[FieldError]) -> str:
    return text(value, "message", "Message", MAX_MESSAGE, found, strip=False)


def valid_email(address: str) -> bool:
    try:
        # Local parts in ASCII, as PHP's FILTER_VALIDATE_EMAIL (WHMCS's check) has them: every
        # address then fits a 7bit message; domains may be internationalised.
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return True


def created(
    value: object, settings: TicketSettings, found: list[FieldError], *, in_future: str
) -> datetime:
    """`created` as naive UTC, now when not given; `in_future` is the action's own error."""
    now = utcnow()
    if value is None or (isinstance(value, str) and not value.strip()):
        return now
    try:
        moment = parameters.parse_created(value, settings.timezone)
        # Year 1 or 9999 with an offset falls outside datetime's range once converted.
        when = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, TypeError, OverflowError):
        found.append(FieldError(("created",), errors.INVALID_DATE_FORMAT))
        return now
    if when > now:
        found.append(FieldError(("created",), in_future))
    return when


def acceptable_files(
    uploads: Sequence[IncomingFile],
    encoded: str | None,
    settings: TicketSettings,
    found: list[FieldError],
) -> list[tuple[str, IncomingFile]]:
    """The files to store, under safe names: uploads, and the API's base64 JSON list."""
    incoming = list(uploads)
    if encoded:
        try:
            decoded = parameters.decode_attachment_list(encoded)
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


def store_files(
    session: Session,
    settings: TicketSettings,
    files: Sequence[tuple[str, IncomingFile]],
    refused: type[TicketError],
    *,
    ticket_id: int | None = None,
) -> list[Attachment]:
    """Store every file, or none: a file too large once read removes those stored before it.

    `ticket_id` names the ticket of a reply's or a note's files, which the reply or note does
    not set by itself."""
    stored: list[StoredFile] = []
    try:
        for name, incoming in files:
            stored.append(
                attachments.store(
                    session, settings.attachments_dir, incoming, name, settings.max_attachment_bytes
                )
            )
    except FileTooLarge as too_big:
        attachments.discard_files(settings.attachments_dir, stored)
        message = attachments.too_large(str(too_big), settings.max_attachment_bytes)
        raise refused([FieldError(("attachments",), message)]) from too_big
    except FileRefused as by_content:
        attachments.discard_files(settings.attachments_dir, stored)
        raise refused([FieldError(("attachments",), by_content.message)]) from by_content
    return [
        Attachment(
            original_name=file.original_name,
            stored_name=file.stored_name,
            size=file.size,
            content_type=file.content_type,
            sha256=file.sha256,
            ticket_id=ticket_id,
        )
        for file in stored
    ]


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
