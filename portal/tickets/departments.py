"""The departments a ticket can be opened in, and the custom fields each asks for."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.models import CustomField, CustomFieldValue, Department, User

DEPARTMENT_ORDER = (Department.sort_order, Department.name, Department.id)


def department_with_fields(session: Session, department_id: int | None) -> Department | None:
    """The department and its custom fields, or None when no department has that id."""
    if department_id is None:
        return None
    return session.get(Department, department_id, options=[selectinload(Department.custom_fields)])


def listed_departments(session: Session) -> list[Department]:
    """The departments the client area offers: every one not hidden, in the operator's order."""
    return list(
        session.scalars(
            select(Department).where(Department.hidden.is_(False)).order_by(*DEPARTMENT_ORDER)
        )
    )


def all_departments(session: Session) -> list[Department]:
    """Every department: staff may open tickets in hidden and clients-only ones too."""
    return list(session.scalars(select(Department).order_by(*DEPARTMENT_ORDER)))


def may_use_department(department: Department, user: User | None) -> bool:
    """Hidden departments are reachable by a direct link; clients-only ones need a login."""
    return user is not None or not department.clients_only


def fields_filled_in(fields: Iterable[CustomField], *, staff: bool) -> list[CustomField]:
    """The custom fields a person fills in; admin-only ones are for staff alone."""
    return [f for f in fields if staff or not f.admin_only]


def field_values_shown(
    values: Iterable[CustomFieldValue], *, staff: bool
) -> list[CustomFieldValue]:
    """The custom field values a ticket's page lists: filled in, and admin-only ones for staff."""
    return [v for v in values if v.value and (staff or not v.field.admin_only)]
