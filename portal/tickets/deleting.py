"""delete_ticket(): WHMCS's DeleteTicket; the files go once the deletion is committed."""

from pathlib import Path

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, SessionTransaction

from portal.models import Attachment, Ticket
from portal.tickets.attachments import stored_path

_FILES_TO_REMOVE = "portal.files_removed_on_commit"


def delete_ticket(session: Session, ticket: Ticket, attachments_dir: Path) -> None:
    """Delete the ticket with its replies, notes, files, custom field values, queued email and
    submission keys (the database cascades). The files are removed after the commit, so a
    rollback leaves the ticket whole."""
    stored_names = session.scalars(
        select(Attachment.stored_name).where(Attachment.ticket_id == ticket.id)
    ).all()
    ticket_id = ticket.id
    session.expunge(ticket)
    session.execute(
        delete(Ticket).where(Ticket.id == ticket_id),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    # Rows loaded before (replies, notes, attachments) are gone from the database too.
    session.expire_all()
    session.info.setdefault(_FILES_TO_REMOVE, []).extend(
        stored_path(attachments_dir, name) for name in stored_names
    )


@event.listens_for(Session, "after_commit")
def _remove_files_of_deleted_tickets(session: Session) -> None:
    # Releasing a savepoint fires after_commit too; only the outermost commit removes files.
    if session.in_nested_transaction():
        return
    for path in session.info.pop(_FILES_TO_REMOVE, []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_transaction_end")
def _keep_files_of_tickets_not_deleted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_FILES_TO_REMOVE, None)
