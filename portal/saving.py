"""Saving a ticket in a door: a database or disk failure becomes one clear error, nothing kept."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.tickets.attachments import discard_pending
from portal.tickets.errors import FieldError

SAVE_FAILED = "The ticket could not be saved; nothing was stored. Please submit again."

log = logging.getLogger(__name__)


class SaveFailed(Exception):
    """The database or the disk failed while saving; nothing of the attempt was kept."""

    def __init__(self, message: str = SAVE_FAILED):
        super().__init__(message)
        self.message = message

    @property
    def errors(self) -> list[FieldError]:
        """The failure as a form shows it: above the form, at no field."""
        return [FieldError((), self.message)]


@contextmanager
def saving(session: Session) -> Iterator[None]:
    """Turn a database or file-system failure in the block into SaveFailed, with nothing kept."""
    try:
        yield
    except (SQLAlchemyError, OSError) as error:
        log.exception("Saving failed; the transaction is rolled back")
        try:
            session.rollback()
        except SQLAlchemyError:
            # A database that went away may refuse the rollback too; the pool replaces it.
            log.exception("The rollback after a failed save failed too")
        finally:
            # Normally the rollback removes the written files; a failed rollback may not.
            discard_pending(session)
        raise SaveFailed() from error
