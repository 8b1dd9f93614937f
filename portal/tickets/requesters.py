"""The rows behind a client's ticket: the account, the user or contact it comes from, and the
service or domain it concerns if the account owns them.

Each lookup is one Core statement built once: building a statement and loading ORM objects
cost several times what SQLite takes to answer, on every ticket a client opens. Each is read
with the ticket's department (departments.Beside): a statement fewer per client ticket.
"""

from sqlalchemy import Row, and_, bindparam, select, true
from sqlalchemy.orm import Session

from portal.models import AccountMembership, ClientAccount, Contact, Domain, Service, User
from portal.tickets.departments import Beside, read_beside

CLIENT = ClientAccount.__table__
MEMBERSHIP = AccountMembership.__table__
USER = User.__table__
CONTACT = Contact.__table__
SERVICE = Service.__table__
DOMAIN = Domain.__table__

_CLIENT_COLUMNS = (
    CLIENT.c.id.label("client_id"),
    CLIENT.c.first_name.label("client_first_name"),
    CLIENT.c.last_name.label("client_last_name"),
    CLIENT.c.email.label("client_email"),
)
_PERSON_COLUMNS = ("id", "first_name", "last_name", "email")
# The named service and domain when this account owns them, else NULL.
_OWNED_COLUMNS = tuple(
    select(table.c.id)
    .where(table.c.id == bindparam(f"{name}_id"), table.c.client_id == CLIENT.c.id)
    .scalar_subquery()
    .label(f"owned_{name}_id")
    for name, table in (("service", SERVICE), ("domain", DOMAIN))
)


def _client_with_member(membership_condition):
    """The account, and the user its membership condition picks (NULLs when none does)."""
    return (
        select(*_CLIENT_COLUMNS, *(USER.c[name] for name in _PERSON_COLUMNS), *_OWNED_COLUMNS)
        .select_from(
            CLIENT.outerjoin(
                MEMBERSHIP, and_(MEMBERSHIP.c.client_id == CLIENT.c.id, membership_condition)
            ).outerjoin(USER, USER.c.id == MEMBERSHIP.c.user_id)
        )
        .where(CLIENT.c.id == bindparam("client_id"))
        .order_by(MEMBERSHIP.c.id)
        .limit(1)
    )


_CLIENT_WITH_USER = Beside.of(_client_with_member(MEMBERSHIP.c.user_id == bindparam("user_id")))
_CLIENT_WITH_OWNER = Beside.of(_client_with_member(MEMBERSHIP.c.is_owner == true()))
_CLIENT_WITH_CONTACT = Beside.of(
    select(*_CLIENT_COLUMNS, *(CONTACT.c[name] for name in _PERSON_COLUMNS), *_OWNED_COLUMNS)
    .select_from(
        CLIENT.outerjoin(
            CONTACT,
            and_(CONTACT.c.client_id == CLIENT.c.id, CONTACT.c.id == bindparam("contact_id")),
        )
    )
    .where(CLIENT.c.id == bindparam("client_id"))
)


def client_with_user(
    session: Session,
    client_id: int,
    user_id: int | None,
    *,
    department_id: int | None,
    **owned: int | None,
) -> Row | None:
    """The account and the named user if that user belongs to it; None without the account.

    `owned` names the service_id and domain_id to look for among the account's;
    `department_id` the department whose rules to read with it, unless already read.
    """
    return _read(
        session,
        _CLIENT_WITH_USER,
        {"client_id": client_id, "user_id": user_id},
        department_id,
        owned,
    )


def client_with_owner(
    session: Session, client_id: int, *, department_id: int | None, **owned: int | None
) -> Row | None:
    return _read(session, _CLIENT_WITH_OWNER, {"client_id": client_id}, department_id, owned)


def client_with_contact(
    session: Session,
    client_id: int,
    contact_id: int | None,
    *,
    department_id: int | None,
    **owned: int | None,
) -> Row | None:
    return _read(
        session,
        _CLIENT_WITH_CONTACT,
        {"client_id": client_id, "contact_id": contact_id},
        department_id,
        owned,
    )


def _read(
    session: Session, lookup: Beside, keys: dict, department_id: int | None, owned: dict
) -> Row | None:
    parameters = {
        **keys,
        "service_id": owned.get("service_id"),
        "domain_id": owned.get("domain_id"),
    }
    return read_beside(session, lookup, parameters, department_id)
