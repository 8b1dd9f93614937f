"""add_note(): WHMCS's AddTicketNote, a staff member's note that no client ever sees."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.models import Editor, StaffMember, Ticket, TicketNote
from portal.rendering import rendered_for_storage
from portal.tickets import errors, inputs
from portal.tickets.attachments import IncomingFile
from portal.tickets.errors import FieldError, NoteError
from portal.tickets.settings import TicketSettings


@dataclass
class NoteRequest:
    message: object = None
    markdown: bool = False
    created: object = None
    attachments: str | None = None
    uploads: Sequence[IncomingFile] = ()


def add_note(
    session: Session,
    ticket: Ticket,
    request: NoteRequest,
    settings: TicketSettings,
    *,
    staff: StaffMember | None,
) -> TicketNote:
    """Add an internal note; it changes neither the status nor what the client sees, and sends
    no email. Raises NoteError, leaving nothing behind."""
    found: list[FieldError] = []
    message = inputs.message(request.message, found)
    # WHMCS's documented error for a note in the future really says "Ticket".
    created = inputs.created(request.created, settings, found, in_future=errors.DATE_IN_FUTURE)
    files = inputs.acceptable_files(request.uploads, request.attachments, settings, found)
    if found:
        raise NoteError(found)
    message_html, renderer = rendered_for_storage(message, request.markdown)
    note = TicketNote(
        ticket=ticket,
        staff=staff,
        name=staff.name if staff is not None else "",
        message=message,
        message_html=message_html,
        message_renderer=renderer,
        editor=(Editor.MARKDOWN if request.markdown else Editor.PLAIN).value,
        created_at=created,
    )
    session.add(note)
    note.attachments = inputs.store_files(session, settings, files, NoteError, ticket_id=ticket.id)
    session.flush()
    return note
