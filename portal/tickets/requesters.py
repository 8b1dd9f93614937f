"""Who a client's ticket comes from: the account, and the user or contact of it that asks."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AccountMembership, ClientAccount, Contact, Domain, Service, User


@dataclass
class Requester:
    """The ticket's requester as stored: an account's user or contact, or a guest."""

    client_id: int | None = None
    user_id: int | None = None
    contact_id: int | None = None
    name: str = ""
    email: str = ""
    cc: str = ""


def account_member(session: Session, client_id: int, user_id: int | None) -> User | None:
    """The user if they belong to the account."""
    if user_id is None:
        return None
    return session.scalar(
        select(User)
        .join(AccountMembership, AccountMembership.user_id == User.id)
        .where(AccountMembership.client_id == client_id, User.id == user_id)
    )


def account_owner(session: Session, client_id: int) -> User | None:
    return session.scalar(
        select(User)
        .join(AccountMembership, AccountMembership.user_id == User.id)
        .where(AccountMembership.client_id == client_id, AccountMembership.is_owner.is_(True))
        .order_by(AccountMembership.id)
        .limit(1)
    )


def account_contact(session: Session, client_id: int, contact_id: int | None) -> Contact | None:
    if contact_id is None:
        return None
    return session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.client_id == client_id)
    )


def owned_by(
    session: Session,
    record: type[Service] | type[Domain],
    client: ClientAccount,
    record_id: int | None,
) -> int | None:
    """The service's or domain's id when the account owns it, else None."""
    if record_id is None:
        return None
    return session.scalar(
        select(record.id).where(record.id == record_id, record.client_id == client.id)
    )


def account_by_id(session: Session, client_id: int | None) -> ClientAccount | None:
    return session.get(ClientAccount, client_id) if client_id is not None else None
