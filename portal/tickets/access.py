"""Who may see a ticket from the client area, and which accounts a user may act for."""

import enum
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import Row, Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, joinedload

from portal.models import (
    AccountMembership,
    Attachment,
    ClientAccount,
    CustomField,
    CustomFieldValue,
    Department,
    Domain,
    Service,
    Ticket,
    TicketState,
    User,
)
from portal.tickets.departments import DepartmentRules, fields_filled_in

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
    # A Ticket from `ticket_access`, a TicketPage from `ticket_page_access`; None unless granted.
    ticket: "Ticket | TicketPage | None" = None

    @property
    def granted(self) -> bool:
        return self.decision is Decision.GRANTED


# Built once: a statement object memoises its cache key, so each request only binds the tid.
_BY_TID = select(Ticket).where(Ticket.tid == bindparam("tid"))


def ticket_access(
    session: Session, tid: str | None, access_code: str | None, user: User | None
) -> TicketAccess:
    """Download and close rights: tid and code, plus membership for an account's ticket."""
    if not _may_name_a_ticket(tid, access_code):
        return TicketAccess(Decision.NOT_FOUND)
    ticket = session.scalars(_BY_TID, {"tid": tid}).one_or_none()
    decision = _decide(session, ticket, access_code, user)
    return TicketAccess(decision, ticket if decision is Decision.GRANTED else None)


@dataclass(frozen=True, slots=True)
class TicketPage(TicketState):
    """A ticket as its page shows it: read as plain rows, tied to no session, changed by nothing."""

    id: int
    tid: str
    access_code: str
    client_id: int | None
    subject: str
    name: str
    message: str
    status: str
    priority: str
    editor: str
    created_at: datetime
    last_reply_at: datetime
    prevent_client_closure: bool
    department: Department
    service: Service | None
    domain: Domain | None
    attachments: list[Attachment]
    custom_field_values: list[CustomFieldValue]


_TICKET = Ticket.__table__
_SERVICE = Service.__table__
_DOMAIN = Domain.__table__
_PAGE_COLUMNS = [
    name
    for name in TicketPage.__dataclass_fields__
    if name not in {"department", "service", "domain", "attachments", "custom_field_values"}
]
# The page in one statement of plain columns: building a Ticket entity with its department
# joined cost as much as the rest of the request. Whether the ticket has attachments or custom
# field values at all comes along, so the usual ticket with neither costs no further query. One
# statement whether or not the code matches, so a right tid with a wrong code costs what a wrong
# tid costs. Run on the session's connection: Session.execute adds ORM dispatch (about 15 us
# here) that a statement of plain columns does not need.
_FOR_PAGE = (
    select(
        *(_TICKET.c[name] for name in _PAGE_COLUMNS),
        _DEPARTMENT.c.name.label("department_name"),
        _SERVICE.c.product_name.label("service_product"),
        _SERVICE.c.domain.label("service_domain"),
        _DOMAIN.c.name.label("domain_name"),
        exists().where(Attachment.ticket_id == _TICKET.c.id).label("has_attachments"),
        exists().where(CustomFieldValue.ticket_id == _TICKET.c.id).label("has_field_values"),
    )
    .select_from(
        _TICKET.join(_DEPARTMENT, _DEPARTMENT.c.id == _TICKET.c.department_id)
        .outerjoin(_SERVICE, _SERVICE.c.id == _TICKET.c.service_id)
        .outerjoin(_DOMAIN, _DOMAIN.c.id == _TICKET.c.domain_id)
    )
    .where(_TICKET.c.tid == bindparam("tid"))
)


def ticket_page_access(
    session: Session, tid: str | None, access_code: str | None, user: User | None
) -> TicketAccess:
    """View rights, as `ticket_access`, with a granted ticket as a `TicketPage`."""
    if not _may_name_a_ticket(tid, access_code):
        return TicketAccess(Decision.NOT_FOUND)
    row = session.connection().execute(_FOR_PAGE, {"tid": tid}).one_or_none()
    decision = _decide(session, row, access_code, user)
    if decision is not Decision.GRANTED:
        return TicketAccess(decision)
    return TicketAccess(decision, _page(session, row))


def _page(session: Session, row: Row) -> TicketPage:
    values = row._mapping
    service = domain = None
    # Unsaved objects only for their label: the page needs nothing else of them.
    if row.service_product is not None:
        service = Service(product_name=row.service_product, domain=row.service_domain)
    if row.domain_name is not None:
        domain = Domain(name=row.domain_name)
    attachments: list[Attachment] = []
    custom_field_values: list[CustomFieldValue] = []
    if row.has_attachments:
        attachments = list(
            session.scalars(
                select(Attachment).where(Attachment.ticket_id == row.id).order_by(Attachment.id)
            )
        )
    if row.has_field_values:
        custom_field_values = list(
            session.scalars(
                select(CustomFieldValue)
                .where(CustomFieldValue.ticket_id == row.id)
                .options(joinedload(CustomFieldValue.field))
                .order_by(CustomFieldValue.field_id)
            )
        )
    return TicketPage(
        **{name: values[name] for name in _PAGE_COLUMNS},
        department=Department(name=row.department_name),
        service=service,
        domain=domain,
        attachments=attachments,
        custom_field_values=custom_field_values,
    )


def _may_name_a_ticket(tid: str | None, access_code: str | None) -> bool:
    # A NUL is in no tid, and PostgreSQL refuses even to compare one.
    return bool(tid) and bool(access_code) and "\x00" not in tid


def _decide(
    session: Session, ticket: Ticket | Row | None, access_code: str, user: User | None
) -> Decision:
    # A wrong tid and a wrong code answer alike, so neither can be probed on its own.
    if ticket is None or not secrets.compare_digest(
        ticket.access_code.encode(), access_code.encode()
    ):
        return Decision.NOT_FOUND
    if ticket.client_id is not None:
        if user is None:
            return Decision.LOGIN_REQUIRED
        if not is_member(session, user, ticket.client_id):
            return Decision.NOT_FOUND
    return Decision.GRANTED


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


def may_use_department(department: Department | DepartmentRules | Row, user: User | None) -> bool:
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


# The same rows for the chosen department alone, for a page that lists no others.
_CHOSEN_DEPARTMENT = _FORM_DEPARTMENTS.where(_DEPARTMENT.c.id == bindparam("chosen"))


def form_departments(session: Session, chosen_id: int | None) -> FormDepartments:
    """listed_departments(), the chosen one even when hidden, and its client fields."""
    return _form_departments(session, _FORM_DEPARTMENTS, chosen_id)


def chosen_department(session: Session, chosen_id: int | None) -> FormDepartments:
    """As form_departments(), with nothing listed: the chosen one and its client fields only."""
    return _form_departments(session, _CHOSEN_DEPARTMENT, chosen_id)


def _form_departments(
    session: Session, statement: Select, chosen_id: int | None
) -> FormDepartments:
    departments: dict[int, Row] = {}
    field_rows = []
    for row in session.connection().execute(statement, {"chosen": chosen_id}):
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
