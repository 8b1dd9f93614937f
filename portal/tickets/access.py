"""Who may see a ticket from the client area, and which accounts a user may act for."""

import enum
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.models import (
    AccountMembership,
    Attachment,
    ClientAccount,
    CustomFieldValue,
    Ticket,
    TicketReply,
    User,
)


class Decision(enum.Enum):
    GRANTED = "granted"
    # The tid and code match a client account's ticket and nobody is signed in.
    LOGIN_REQUIRED = "login required"
    NOT_FOUND = "not found"


@dataclass(frozen=True)
class TicketAccess:
    decision: Decision
    ticket: Ticket | None = None  # only when granted

    @property
    def granted(self) -> bool:
        return self.decision is Decision.GRANTED


def tids_meant(typed: str | None) -> list[str]:
    """The ticket numbers a person means by what they typed, the likeliest first.

    Pages and email print a number as "#QAP-010832", and people type it in lower case or copy
    it with spaces around it: whitespace and one leading "#" are dropped, and the upper-cased
    form is tried after the typed one. Both are exact look-ups on the unique index; the typed
    form still finds a number from a mask with lower-case letters (%a).
    """
    # A NUL is in no tid, and PostgreSQL refuses even to compare one.
    if not typed or "\x00" in typed:
        return []
    text = typed.strip().removeprefix("#").strip()
    return list(dict.fromkeys(number for number in (text, text.upper()) if number))


def ticket_access(
    session: Session, tid: str | None, access_code: str | None, user: User | None
) -> TicketAccess:
    """The client area's rights: tid and code, plus membership for an account's ticket."""
    candidates = tids_meant(tid)
    access_code = (access_code or "").strip()
    if not candidates or not access_code:
        return TicketAccess(Decision.NOT_FOUND)
    found = session.scalars(
        select(Ticket)
        .where(Ticket.tid.in_(candidates))
        .options(
            joinedload(Ticket.department),
            joinedload(Ticket.service),
            joinedload(Ticket.domain),
            selectinload(Ticket.attachments),
            selectinload(Ticket.replies).selectinload(TicketReply.attachments),
            selectinload(Ticket.custom_field_values).joinedload(CustomFieldValue.field),
        )
    ).unique()
    # Compared exactly after the look-up: MariaDB's collation would also find "qàp-010832".
    exact = {row.tid: row for row in found}
    ticket = next((exact[number] for number in candidates if number in exact), None)
    # A wrong tid and a wrong code answer alike, so neither can be probed on its own.
    if ticket is None or not secrets.compare_digest(
        ticket.access_code.encode(), access_code.encode()
    ):
        return TicketAccess(Decision.NOT_FOUND)
    if ticket.client_id is not None:
        if user is None:
            return TicketAccess(Decision.LOGIN_REQUIRED)
        if not is_member(session, user, ticket.client_id):
            return TicketAccess(Decision.NOT_FOUND)
    return TicketAccess(Decision.GRANTED, ticket)


def ticket_attachment(ticket: Ticket, attachment_id: int) -> Attachment | None:
    """A file of this ticket's opening message or replies; another ticket's, or a note's, is
    not found."""
    shown = [*ticket.attachments, *(a for reply in ticket.replies for a in reply.attachments)]
    return next((a for a in shown if a.id == attachment_id), None)


def is_member(session: Session, user: User, client_id: int) -> bool:
    membership = select(AccountMembership.id).where(
        AccountMembership.user_id == user.id, AccountMembership.client_id == client_id
    )
    return session.scalar(membership) is not None


def accounts_for_user(session: Session, user: User) -> list[ClientAccount]:
    """The client accounts a user may act for, the ones they own first."""
    return list(
        session.scalars(
            select(ClientAccount)
            .join(AccountMembership, AccountMembership.client_id == ClientAccount.id)
            .where(AccountMembership.user_id == user.id)
            .order_by(AccountMembership.is_owner.desc(), ClientAccount.id)
        )
    )


def account_tickets(session: Session, client_id: int) -> list[Ticket]:
    """An account's tickets, newest first."""
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.client_id == client_id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        )
    )
