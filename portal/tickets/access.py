"""Who may see a ticket from the client area, and which accounts a user may act for."""

import enum
import secrets
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Row, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal.models import (
    AccountMembership,
    Attachment,
    ClientAccount,
    CustomField,
    CustomFieldValue,
    Department,
    Ticket,
    User,
)
from portal.tickets.departments import fields_filled_in

_DEPARTMENT = Department.__table__
_CUSTOM_FIELD = CustomField.__table__


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


# Built once: a statement object memoises its cache key, so each request only binds the tid.
_BY_TID = select(Ticket).where(Ticket.tid == bindparam("tid"))

# The ticket page's statement: the department joined, and whether the ticket has attachments or
# custom field values at all, so that the usual ticket with neither costs no further query and
# no joined collection (whose row processing dominated the view). One statement whether or not
# the code matches, so a right tid with a wrong code costs what a wrong tid costs; the rest is
# loaded only once access is granted.
_FOR_PAGE = (
    select(
        Ticket,
        exists().where(Attachment.ticket_id == Ticket.id).correlate(Ticket),
        exists().where(CustomFieldValue.ticket_id == Ticket.id).correlate(Ticket),
    )
    .where(Ticket.tid == bindparam("tid"))
    .options(joinedload(Ticket.department))
)


def ticket_access(
    session: Session,
    tid: str | None,
    access_code: str | None,
    user: User | None,
    *,
    for_page: bool = False,
) -> TicketAccess:
    """View, download and close rights: tid and code, plus membership for an account's ticket.

    With `for_page`, a granted ticket comes with everything the ticket page reads.
    """
    # A NUL is in no tid, and PostgreSQL refuses even to compare one.
    if not tid or not access_code or "\x00" in tid:
        return TicketAccess(Decision.NOT_FOUND)
    extras = None
    if for_page:
        row = session.execute(_FOR_PAGE, {"tid": tid}).one_or_none()
        ticket, extras = (row[0], row[1:]) if row is not None else (None, None)
    else:
        ticket = session.scalars(_BY_TID, {"tid": tid}).one_or_none()
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
    if extras is not None:
        load_page_extras(session, ticket, *extras)
    return TicketAccess(Decision.GRANTED, ticket)


def load_page_extras(
    session: Session, ticket: Ticket, has_attachments: bool, has_field_values: bool
) -> None:
    """Attachments and custom field values, queried only when the ticket has any."""
    attachments: list[Attachment] = []
    custom_field_values: list[CustomFieldValue] = []
    if has_attachments:
        attachments = list(
            session.scalars(
                select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
            )
        )
    if has_field_values:
        custom_field_values = list(
            session.scalars(
                select(CustomFieldValue)
                .where(CustomFieldValue.ticket_id == ticket.id)
                .options(joinedload(CustomFieldValue.field))
                .order_by(CustomFieldValue.field_id)
            )
        )
    # As if loaded with the ticket: no lazy load when the template reads them.
    set_committed_value(ticket, "attachments", attachments)
    set_committed_value(ticket, "custom_field_values", custom_field_values)
    # The related service or domain is left to load as the page reads it: by primary key when
    # set, and without any query when the column is empty, as it is on most tickets.


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


def may_use_department(department: Department | Row, user: User | None) -> bool:
    """Hidden departments are reachable by a direct link; clients-only ones need a login."""
    return user is not None or not department.clients_only


@dataclass(frozen=True)
class FormDepartments:
    """What a compose form offers: the listed departments, and the one asked for if it exists."""

    listed: list[Row]
    chosen: Row | None
    field_rows: list[Row] = field(repr=False)

    @cached_property
    def chosen_fields(self) -> list[CustomField]:
        """The chosen one's fields that a client fills in, as objects in no session."""
        fields = [
            CustomField(**{name: row._mapping[label] for name, label in _FIELD_LABELS.items()})
            for row in self.field_rows
        ]
        return fields_filled_in(fields, staff=False)


_FIELD_LABELS = {column.name: f"field_{column.name}" for column in _CUSTOM_FIELD.c}
# One statement for the whole form, built once, of Core rows rather than entities: loading the
# department, the list and the fields as entities cost three times as much. The fields joined
# are the chosen department's only.
_FORM_DEPARTMENTS = (
    select(
        _DEPARTMENT.c.id,
        _DEPARTMENT.c.name,
        _DEPARTMENT.c.hidden,
        _DEPARTMENT.c.clients_only,
        *(column.label(_FIELD_LABELS[column.name]) for column in _CUSTOM_FIELD.c),
    )
    .select_from(
        _DEPARTMENT.outerjoin(
            _CUSTOM_FIELD,
            and_(
                _CUSTOM_FIELD.c.department_id == _DEPARTMENT.c.id,
                _DEPARTMENT.c.id == bindparam("chosen"),
            ),
        )
    )
    .where(or_(_DEPARTMENT.c.hidden.is_(False), _DEPARTMENT.c.id == bindparam("chosen")))
    .order_by(
        _DEPARTMENT.c.sort_order,
        _DEPARTMENT.c.name,
        _DEPARTMENT.c.id,
        _CUSTOM_FIELD.c.sort_order,
        _CUSTOM_FIELD.c.id,
    )
)


def form_departments(session: Session, chosen_id: int | None) -> FormDepartments:
    """listed_departments(), the chosen one even when hidden, and its client fields."""
    departments: dict[int, Row] = {}
    field_rows = []
    for row in session.execute(_FORM_DEPARTMENTS, {"chosen": chosen_id}):
        departments.setdefault(row.id, row)
        if row.field_id is not None:
            field_rows.append(row)
    listed = [row for row in departments.values() if not row.hidden]
    return FormDepartments(listed, departments.get(chosen_id), field_rows)


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
