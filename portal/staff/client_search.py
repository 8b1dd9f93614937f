"""Finding a client account for staff, and the requestors and records a ticket of it may name."""

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.models import AccountMembership, ClientAccount, Contact, User

MAX_RESULTS = 20


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class ClientChoices:
    """What the form offers once a client is chosen: who asks, and what the ticket is about."""

    requestors: list[Choice]
    related: list[Choice]
    default_requestor: str


def find_clients(session: Session, query: str, limit: int = MAX_RESULTS) -> list[ClientAccount]:
    """Accounts whose id, name, company or email, or a user's or contact's name or email, match."""
    # PostgreSQL refuses NUL even in a pattern; no name or address holds one.
    text = query.replace("\x00", "").strip()
    if not text:
        return []
    pattern = "%" + _escape_like(text) + "%"

    def matches(*columns) -> list:
        return [column.ilike(pattern, escape="\\") for column in columns]

    users = (
        select(AccountMembership.client_id)
        .join(User, User.id == AccountMembership.user_id)
        .where(or_(*matches(User.email, User.first_name + " " + User.last_name)))
    )
    contacts = select(Contact.client_id).where(
        or_(*matches(Contact.email, Contact.first_name + " " + Contact.last_name))
    )
    conditions = [
        *matches(
            ClientAccount.first_name + " " + ClientAccount.last_name,
            ClientAccount.company_name,
            ClientAccount.email,
        ),
        ClientAccount.id.in_(users),
        ClientAccount.id.in_(contacts),
    ]
    number = text.removeprefix("#")
    if number.isascii() and number.isdigit() and len(number) < 10:
        conditions.append(ClientAccount.id == int(number))
    statement = (
        select(ClientAccount)
        .where(or_(*conditions))
        .order_by(ClientAccount.last_name, ClientAccount.first_name, ClientAccount.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def client_summary(client: ClientAccount) -> dict[str, object]:
    """A client as the live search list shows it."""
    return {"id": client.id, "label": client_label(client)}


def client_label(client: ClientAccount) -> str:
    return f"{client.display_name} <{client.email}> (#{client.id})"


def client_choices(client: ClientAccount) -> ClientChoices:
    users = sorted(client.memberships, key=lambda m: (not m.is_owner, m.user.name, m.user_id))
    requestors = [
        Choice(
            f"user:{m.user_id}",
            f"{m.user.name} <{m.user.email}>" + (" (owner)" if m.is_owner else " (user)"),
        )
        for m in users
    ]
    requestors += [
        Choice(f"contact:{contact.id}", f"{contact.name} <{contact.email}> (contact)")
        for contact in sorted(client.contacts, key=lambda c: (c.name, c.id))
    ]
    related = [
        Choice(f"S{service.id}", f"Service: {service.label} ({service.status})")
        for service in sorted(client.services, key=lambda s: s.id)
    ]
    related += [
        Choice(f"D{domain.id}", f"Domain: {domain.label} ({domain.status})")
        for domain in sorted(client.domains, key=lambda d: d.id)
    ]
    owner = next((m for m in users if m.is_owner), None)
    return ClientChoices(requestors, related, f"user:{owner.user_id}" if owner else "")


def choices_summary(choices: ClientChoices) -> dict[str, object]:
    """The choices as JSON for the form's script."""
    return {
        "requestors": [{"value": c.value, "label": c.label} for c in choices.requestors],
        "related": [{"value": c.value, "label": c.label} for c in choices.related],
        "default_requestor": choices.default_requestor,
    }
