"""The doors' one way to run a core call: commit it, or roll back and say why, keeping nothing."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.tickets.attachments import discard_pending
from portal.tickets.errors import FieldError, TicketError

SAVE_FAILED = "The ticket could not be saved; nothing was stored. Please submit again."
# The request was valid and nothing was kept: a later try of the same request can succeed, which
# 503 tells HTTP clients and proxies (500 would suggest that the request itself broke something).
SAVE_FAILED_STATUS = 503

log = logging.getLogger(__name__)
Result = TypeVar("Result")


class Refused(Exception):
    """A core call that kept nothing: the rule it broke, or the database or disk failing."""

    def __init__(self, errors: list[FieldError], status: int, *, save_failed: bool = False):
        super().__init__(errors[0].message)
        self.errors = errors
        self.status = status
        self.save_failed = save_failed

    @property
    def message(self) -> str:
        return self.errors[0].message


def commit(session: Session, call: Callable[[], Result]) -> Result:
    """Run one core call and commit what it wrote; raises Refused with nothing kept."""
    try:
        with saving(session):
            result = call()
            session.commit()
    except TicketError as refused:
        session.rollback()
        raise Refused(refused.errors, refused.status) from refused
    except SaveFailed as failure:
        raise Refused(failure.errors, SAVE_FAILED_STATUS, save_failed=True) from failure
    return result


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
