"""A department's rules for opening a ticket, read in one statement for each ticket."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from sqlalchemy import Row, Select, bindparam, event, literal_column, select, true
from sqlalchemy.orm import Session, SessionTransaction

from portal.models import CustomField, Department

DEPARTMENT = Department.__table__
FIELD = CustomField.__table__
# Labelled so that another look-up's columns can sit beside them in one row (Beside).
_RULES_COLUMNS = (
    DEPARTMENT.c.id.label("department_id"),
    DEPARTMENT.c.name.label("department_name"),
    DEPARTMENT.c.email.label("department_email"),
    DEPARTMENT.c.no_autoresponder,
    DEPARTMENT.c.prevent_client_closure,
    DEPARTMENT.c.clients_only,
    FIELD.c.id.label("field_id"),
    FIELD.c.name.label("field_name"),
    FIELD.c.field_type,
    FIELD.c.options,
    FIELD.c.required,
    FIELD.c.validation_regex,
    FIELD.c.admin_only,
)
_FIELD_OF_DEPARTMENT = FIELD.c.department_id == DEPARTMENT.c.id
_NAMED = DEPARTMENT.c.id == bindparam("department_id")
# As Department.custom_fields orders them: the order errors are reported in.
_FIELD_ORDER = (FIELD.c.sort_order, FIELD.c.id)
# Built once: constructing a statement costs more than SQLite running it, and an ORM load of
# the department and then its fields cost five times this one joined Core query.
_DEPARTMENT_WITH_FIELDS = (
    select(*_RULES_COLUMNS)
    .select_from(DEPARTMENT.outerjoin(FIELD, _FIELD_OF_DEPARTMENT))
    .where(_NAMED)
    .order_by(*_FIELD_ORDER)
)
# Rules already read in the session's transaction, by department id.
_READ_RULES = "portal_department_rules"
_FOUND = "found_beside_department"


@dataclass(frozen=True)
class FieldRules:
    """What a custom field asks of its value."""

    id: int
    name: str
    field_type: str
    options: str
    required: bool
    validation_regex: str
    admin_only: bool

    @property
    def choices(self) -> list[str]:
        return [option.strip() for option in self.options.split(",") if option.strip()]


@dataclass(frozen=True)
class DepartmentRules:
    """What opening a ticket in a department needs to know about it."""

    id: int
    name: str
    email: str
    no_autoresponder: bool
    prevent_client_closure: bool
    clients_only: bool
    custom_fields: tuple[FieldRules, ...]


Field = TypeVar("Field", CustomField, FieldRules)


def fields_filled_in(fields: Iterable[Field], *, staff: bool) -> list[Field]:
    """The custom fields a person fills in; admin-only ones are for staff alone."""
    return [f for f in fields if staff or not f.admin_only]


def department_rules(session: Session, department_id: int | None) -> DepartmentRules | None:
    """The department's rules, read once per transaction.

    A door that checks who may use the department before it opens the ticket, and the core
    that opens it, then cost one statement together instead of two.
    """
    read = session.info.setdefault(_READ_RULES, {})
    if department_id not in read:
        read[department_id] = _read_rules(session, department_id)
    return read[department_id]


@event.listens_for(Session, "after_transaction_end")
def _forget_read_rules(session: Session, transaction: SessionTransaction) -> None:
    # A later transaction reads them again, as changed since.
    if transaction.parent is None:
        session.info.pop(_READ_RULES, None)


class Beside(NamedTuple):
    """A look-up of at most one row, alone and with a department's rules beside it.

    Another read that a ticket needs rides along with the department's, in one statement
    instead of two: a round trip fewer on PostgreSQL and MariaDB.
    """

    alone: Select
    with_rules: Select

    @classmethod
    def of(cls, lookup: Select) -> "Beside":
        # A column that is NULL only when the look-up found nothing beside the department.
        found = lookup.add_columns(literal_column("1").label(_FOUND)).subquery()
        with_rules = (
            select(*_RULES_COLUMNS, *found.c)
            # Joined to the department table itself, not to its join with the fields:
            # SQLAlchemy's MySQL compiler links an ON true to a table on its left, not to a
            # join's tables, and its cartesian product check then warns.
            .select_from(DEPARTMENT.outerjoin(found, true()).outerjoin(FIELD, _FIELD_OF_DEPARTMENT))
            .where(_NAMED)
            .order_by(*_FIELD_ORDER)
        )
        return cls(lookup, with_rules)


def read_beside(
    session: Session, lookup: Beside, parameters: dict, department_id: int | None
) -> Row | None:
    """The look-up's row, read with the department's rules unless department_rules() has them.

    department_rules() then finds the rules read here. A department that does not exist gives
    no row to carry the look-up's, which is then read alone: a second statement, for a ticket
    that is refused anyway.
    """
    connection = session.connection()
    read = session.info.setdefault(_READ_RULES, {})
    if department_id is None or department_id in read:
        return connection.execute(lookup.alone, parameters).first()
    rows = connection.execute(
        lookup.with_rules, {**parameters, "department_id": department_id}
    ).all()
    read[department_id] = _rules_from(rows)
    if not rows:
        return connection.execute(lookup.alone, parameters).first()
    return rows[0] if getattr(rows[0], _FOUND) is not None else None


def _read_rules(session: Session, department_id: int | None) -> DepartmentRules | None:
    return _rules_from(
        session.connection()
        .execute(_DEPARTMENT_WITH_FIELDS, {"department_id": department_id})
        .all()
    )


def _rules_from(rows: Sequence[Row]) -> DepartmentRules | None:
    if not rows:
        return None
    first = rows[0]
    return DepartmentRules(
        id=first.department_id,
        name=first.department_name,
        email=first.department_email,
        no_autoresponder=bool(first.no_autoresponder),
        prevent_client_closure=bool(first.prevent_client_closure),
        clients_only=bool(first.clients_only),
        custom_fields=tuple(
            FieldRules(
                id=row.field_id,
                name=row.field_name,
                field_type=row.field_type,
                options=row.options,
                required=bool(row.required),
                validation_regex=row.validation_regex,
                admin_only=bool(row.admin_only),
            )
            for row in rows
            if row.field_id is not None
        ),
    )
