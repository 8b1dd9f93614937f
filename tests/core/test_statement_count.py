"""Opening a ticket issues a fixed, small number of SQL statements, whatever the data size.

Counted from the start of open_ticket() to the end of the commit that a door makes after it,
so that anything left for the commit to write would count too. The expected lists are exact:
a new query in the core (a lazy load, a per-row lookup, a scan for a free number) fails here
before it slows every ticket down.
"""

import re
import threading

import pytest
from sqlalchemy import event, update

from portal.extensions import db
from portal.models import CustomFieldType, Department
from portal.tickets import (
    IncomingFile,
    OpenTicketError,
    OpenTicketRequest,
    errors,
    idempotency,
    open_ticket,
)
from portal.tickets.departments import department_rules


@pytest.fixture
def statements(app):
    """The statements sent to the database while the fixture's list is being recorded."""
    recorded: list[str] = []
    test_thread = threading.get_ident()

    def record(conn, cursor, statement, parameters, context, executemany):
        # Delivery after the commit may run in a thread of its own; it is not the ticket's cost.
        if threading.get_ident() == test_thread:
            recorded.append(_summary(statement))

    event.listen(db.engine, "before_cursor_execute", record)
    yield recorded
    event.remove(db.engine, "before_cursor_execute", record)


def _summary(statement: str) -> str:
    """`SELECT ticket`, `INSERT attachment`, `SAVEPOINT`: enough to read a failure at a glance."""
    words = statement.split()
    verb = words[0].upper()
    if verb == "SELECT":
        # The outer query's table, not a subquery's in its column list.
        outer = statement
        while (inner := re.sub(r"\([^()]*\)", "", outer)) != outer:
            outer = inner
        table = re.search(r"\bFROM\s+[`\"]?(\w+)", outer, re.IGNORECASE)
        return f"SELECT {table.group(1) if table else ''}".strip()
    if verb in ("INSERT", "UPDATE", "DELETE"):
        table = re.search(r"\b(?:INTO|UPDATE|FROM)\s+[`\"]?(\w+)", statement, re.IGNORECASE)
        return f"{verb} {table.group(1)}"
    return verb


def _numbered_insert() -> list[str]:
    # SQLite and PostgreSQL insert with ON CONFLICT (tid) DO NOTHING: a taken number inserts
    # nothing and the next candidate is tried. MariaDB has no such clause, so a savepoint lets
    # a duplicate roll back only itself.
    if db.engine.dialect.name in ("sqlite", "postgresql"):
        return ["INSERT ticket"]
    return ["SAVEPOINT", "INSERT ticket", "RELEASE"]


def _opened_in_a_fresh_session(statements, request, settings, **options):
    # A request starts with an empty session: nothing loaded by the factories may hide a query.
    db.session.expunge_all()
    statements.clear()
    opened = open_ticket(db.session, request, settings, **options)
    db.session.commit()
    return opened, list(statements)


def test_a_guest_ticket_takes_two_statements(make, settings, statements):
    department = make.department()
    request = OpenTicketRequest(
        deptid=str(department.id),
        subject="Printer on fire",
        message="It is on fire.",
        name="Gus Guest",
        email="gus@example.com",
    )

    opened, counted = _opened_in_a_fresh_session(statements, request, settings)

    assert opened.tid
    assert counted == [
        "SELECT department",  # joined with its custom fields, even when it has none
        # With its mail (requester and department) in the row: delivery writes the outbox.
        *_numbered_insert(),
    ], counted
    assert opened.ticket.mail_queued == "ticket_opened new_ticket_notice"


def test_a_client_ticket_with_service_custom_field_and_attachment_takes_four(
    make, settings, statements
):
    department = make.department()
    field = make.custom_field(department, name="Hostname", field_type=CustomFieldType.TEXT)
    account = make.client_account()
    service = make.service(account)
    request = OpenTicketRequest(
        deptid=str(department.id),
        clientid=str(account.id),
        serviceid=str(service.id),
        subject="Disk full",
        message="The disk is full.",
        customfields={field.id: "db1.example.com"},
        uploads=[IncomingFile.from_bytes("df.txt", b"/dev/sda1 100%\n")],
    )

    opened, counted = _opened_in_a_fresh_session(statements, request, settings)

    assert counted == [
        # Joined with its custom fields, and with the client's account, its owner (the
        # requester when none is named) and the service named, which must be this client's.
        "SELECT department",
        *_numbered_insert(),
        "INSERT custom_field_value",
        "INSERT attachment",
    ], counted
    assert opened.ticket.service_id == service.id


@pytest.mark.parametrize(
    ("client_exists", "department_exists", "refused_with", "expected"),
    [
        (True, True, [], ["SELECT department"]),
        (False, True, [errors.CLIENT_NOT_FOUND], ["SELECT department"]),
        # No department row to carry the account: a refused ticket reads it alone.
        (
            True,
            False,
            [errors.DEPARTMENT_NOT_FOUND],
            ["SELECT department", "SELECT client_account"],
        ),
        (
            False,
            False,
            [errors.CLIENT_NOT_FOUND, errors.DEPARTMENT_NOT_FOUND],
            ["SELECT department", "SELECT client_account"],
        ),
    ],
)
def test_the_client_and_the_department_are_read_together(
    make, settings, statements, client_exists, department_exists, refused_with, expected
):
    account = make.client_account(first_name="Carla", last_name="Client")
    department = make.department()
    request = OpenTicketRequest(
        deptid=str(department.id if department_exists else department.id + 1000),
        clientid=str(account.id if client_exists else account.id + 1000),
        subject="Disk full",
        message="The disk is full.",
    )
    db.session.expunge_all()
    statements.clear()

    try:
        opened = open_ticket(db.session, request, settings)
    except OpenTicketError as refused:
        opened, found = None, [e.message for e in refused.errors]
    else:
        found = []
    reads = [s for s in statements if s.startswith("SELECT")]

    assert found == refused_with
    assert reads == expected
    if opened is not None:
        assert (opened.ticket.name, opened.ticket.department_id) == ("Carla Client", department.id)


def test_a_department_a_door_has_read_is_not_read_again_with_the_client(make, settings, statements):
    department = make.department()
    account = make.client_account()
    request = OpenTicketRequest(
        deptid=str(department.id), clientid=str(account.id), subject="Hi", message="Hello."
    )

    db.session.expunge_all()
    statements.clear()
    department_rules(db.session, department.id)  # as the client area's form does first
    open_ticket(db.session, request, settings)
    db.session.commit()

    assert statements[:2] == ["SELECT department", "SELECT client_account"], statements
    assert statements.count("SELECT department") == 1, statements


@pytest.mark.parametrize("requester", ["guest", "client"])
def test_a_submission_key_is_read_with_the_department(make, settings, statements, requester):
    department = make.department()
    who = (
        {"clientid": str(make.client_account().id)}
        if requester == "client"
        else {"name": "Gus Guest", "email": "gus@example.com"}
    )
    request = OpenTicketRequest(deptid=str(department.id), subject="Hi", message="Hello.", **who)
    submission = idempotency.Submission(idempotency.CLIENT_FORM, "draft-1")

    db.session.expunge_all()
    statements.clear()
    idempotency.open_ticket_once(db.session, submission, request, settings)
    db.session.commit()

    assert statements == [
        "SELECT department",  # with its fields and the key's row, if any
        *(["SELECT client_account"] if requester == "client" else []),
        *_numbered_insert(),
        "INSERT idempotency_key",
    ], statements


def test_a_repeat_is_found_even_when_it_names_no_department(make, settings, statements):
    # No department row to carry the key's: the key is then read alone.
    department = make.department()
    request = OpenTicketRequest(
        deptid=str(department.id), subject="Hi", message="Hello.", name="Gus", email="g@x.org"
    )
    submission = idempotency.Submission(idempotency.CLIENT_FORM, "draft-1")
    first = idempotency.open_ticket_once(db.session, submission, request, settings)
    no_such_department = department.id + 1000
    db.session.commit()
    statements.clear()

    found = idempotency.look_up(db.session, submission, department_id=no_such_department)

    assert (found.earlier.tid, found.earlier.repeated) == (first.tid, True)
    assert statements == ["SELECT department", "SELECT idempotency_key"], statements


def test_a_department_read_in_a_transaction_is_read_again_in_the_next(make, statements):
    department_id = make.department(name="Sales").id
    db.session.commit()
    statements.clear()

    assert department_rules(db.session, department_id).name == "Sales"
    assert department_rules(db.session, department_id).name == "Sales"
    assert statements == ["SELECT department"]
    db.session.commit()
    db.session.execute(update(Department).values(name="Billing"))
    db.session.commit()

    assert department_rules(db.session, department_id).name == "Billing"
