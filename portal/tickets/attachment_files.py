"""The stored files of a ticket's messages: which were removed, and one by its index
(WHMCS's GetTicketAttachment)."""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, selectinload

from portal.models import Attachment, Ticket, TicketNote, TicketReply
from portal.tickets import parameters
from portal.tickets.attachments import stored_path
from portal.tickets.errors import FieldError, TicketError

RELATED_ID_REQUIRED = "Related ID Required"
INVALID_TYPE = "Invalid Type. Must be one of ticket, reply, note"
RELATED_ID_NOT_FOUND = "Related ID Not Found"
INDEX_REQUIRED = "Attachment Index Required"
NO_ATTACHMENTS = "No Attachments Found"
ATTACHMENTS_DELETED = "Attachments Deleted"
INVALID_INDEX = "Invalid Attachment Index"
# What `type` names: the opening message's files are the ticket's own.
RECORDS: dict[str, type[Ticket] | type[TicketReply] | type[TicketNote]] = {
    "ticket": Ticket,
    "reply": TicketReply,
    "note": TicketNote,
}


class AttachmentNotFound(TicketError):
    status = 404


@dataclass(frozen=True)
class AttachmentFile:
    attachment: Attachment
    path: Path


def files_removed(attachments: Iterable[Attachment], attachments_dir: Path) -> bool:
    """Whether any of a message's files is gone from the disk (WHMCS's attachments_removed)."""
    return any(
        not stored_path(attachments_dir, attachment.stored_name).is_file()
        for attachment in attachments
    )


def attachment_file(
    session: Session, kind: object, relatedid: object, index: object, attachments_dir: Path
) -> AttachmentFile:
    """The file at `index` (0-based) of a ticket's opening message, a reply or a note; raises
    AttachmentNotFound with WHMCS's messages, in its order."""
    if not parameters.php_int(relatedid):
        raise _refused("relatedid", RELATED_ID_REQUIRED)
    record_type = RECORDS.get(str(kind or "").strip().lower())
    if record_type is None:
        raise _refused("type", INVALID_TYPE)
    record_key = parameters.row_id(relatedid)
    record = None
    if record_key is not None:
        record = session.get(
            record_type, record_key, options=[selectinload(record_type.attachments)]
        )
    if record is None:
        raise _refused("relatedid", RELATED_ID_NOT_FOUND)
    if index is None or not str(index).strip():
        raise _refused("index", INDEX_REQUIRED)
    attachments: list[Attachment] = list(getattr(record, "attachments"))  # noqa: B009
    if not attachments:
        raise _refused("index", NO_ATTACHMENTS)
    if files_removed(attachments, attachments_dir):
        raise _refused("index", ATTACHMENTS_DELETED)
    position = parameters.php_int(index)
    if not 0 <= position < len(attachments):
        raise _refused("index", INVALID_INDEX)
    attachment = attachments[position]
    return AttachmentFile(attachment, stored_path(attachments_dir, attachment.stored_name))


def _refused(field: str, message: str) -> AttachmentNotFound:
    return AttachmentNotFound([FieldError((field,), message)])
