"""Who may see a ticket from the client area, and which accounts a user may act for."""

import enum
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.interfaces import ORMOption

from portal.models import (
    AccountMembership,
    Attachment,
    ClientAccount,
    CustomFieldValue,
    Department,
    Ticket,
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
    ticket: Ticket | None = None

    @property
    def granted(self) -> bool:
        return self.decision is Decision.GRANTED


# What the ticket page shows, in the query that finds the ticket, instead of a lazy load for each
# relationship as the template reaches it. Joined, not select-in: one statement whether or not
# the code matches, so a right tid with a wrong code costs what a wrong tid costs.
TICKET_PAGE = (
    joinedload(Ticket.department),
    joinedload(Ticket.service),
    joinedload(Ticket.domain),
    joinedload(Ticket.attachments),
    joinedload(Ticket.custom_field_values).joinedload(CustomFieldValue.field),
)


def ticket_access(
    session: Session,
    tid: str | None,
    access_code: str | None,
    user: User | None,
    *,
    options: Sequence[ORMOption] = (),
) -> TicketAccess:
    """View, download and close rights: tid and code, plus membership for an account's ticket.

    `options` (such as TICKET_PAGE) load what the caller will read along with the ticket.
    """
    # A NUL is in no tid, and PostgreSQL refuses even to compare one.
    if not tid or not access_code or "\x00" in tid:
        return TicketAccess(Decision.NOT_FOUND)
    query = select(Ticket).where(Ticket.tid == tid).options(*options)
    # Joined collections repeat the ticket's row; unique() folds them into one ticket.
    ticket = session.scalars(query).unique().one_or_none()
    # A wrong tid and a wrong code answer alike, so neither can be probed on its own.
    if ticket is None or not secrets.compare_digest(
        ticket.access_code.encode(), access_code.encode()
    ):
        return TicketAccess(Decision.NOT_FOUND)
    if ticket.client_id is None:
        return TicketAccess(Decision.GRANTED, ticket)
    if user is None:
        return TicketAccess(Decision.LOGIN_REQUIRED)
    if not is_member(session, user, ticket.client_id):
        return TicketAccess(Decision.NOT_FOUND)
    return TicketAccess(Decision.GRANTED, ticket)


def ticket_attachment(ticket: Ticket, attachment_id: int) -> Attachment | None:
    """An attachment of this ticket only; another ticket's id finds nothing."""
    return next((a for a in ticket.attachments if a.id == attachment_id), None)


def is_member(session: Session, user: User, client_id: int) -> bool:
    return (
        session.scalar(
            select(AccountMembership.id).where(
                AccountMembership.user_id == user.id, AccountMembership.client_id == client_id
            )
        )
        is not None
    )


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


def may_use_department(department: Department, user: User | None) -> bool:
    """Hidden departments are reachable by a direct link; clients-only ones need a login."""
    return user is not None or not department.clients_only


def listed_departments(session: Session) -> list[Department]:
    """The departments the client area offers: every one not hidden, in the operator's order."""
    return list(
        session.scalars(
            select(Department)
            .where(Department.hidden.is_(False))
            .order_by(Department.sort_order, Department.name, Department.id)
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
