"""Opening a ticket issues a fixed, small number of SQL statements, whatever the data size.

Counted from the start of open_ticket() to the end of the commit that a door makes after it,
since rows added to the session (the outbox's email) are written at the commit. The expected
lists are exact: a new query in the core (a lazy load, a per-row lookup, a scan for a free
number) fails here before it slows every ticket down.
"""

import re
import threading

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.models import CustomFieldType
from portal.tickets import IncomingFile, OpenTicketRequest, open_ticket


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
        table = re.search(r"\bFROM\s+[`\"]?(\w+)", statement, re.IGNORECASE)
        return f"SELECT {table.group(1) if table else ''}".strip()
    if verb in ("INSERT", "UPDATE", "DELETE"):
        table = re.search(r"\b(?:INTO|UPDATE|FROM)\s+[`\"]?(\w+)", statement, re.IGNORECASE)
        return f"{verb} {table.group(1)}"
    return verb


def _outbox_inserts() -> list[str]:
    # Two messages: the requester's confirmation and the department's new-ticket notice.
    # SQLAlchemy sends both rows in one INSERT on PostgreSQL and MariaDB, and two on SQLite.
    return ["INSERT outbox_message"] * (2 if db.engine.dialect.name == "sqlite" else 1)


def _opened_in_a_fresh_session(statements, request, settings, **options):
    # A request starts with an empty session: nothing loaded by the factories may hide a query.
    db.session.expunge_all()
    statements.clear()
    opened = open_ticket(db.session, request, settings, **options)
    db.session.commit()
    return opened, list(statements)


def test_a_guest_ticket_takes_eight_statements_on_sqlite(make, settings, statements):
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
        "SELECT department",
        "SELECT custom_field",  # the department's fields, even when it has none
        "SELECT ticket",  # which candidate numbers are taken, one query for 25 candidates
        "SAVEPOINT",  # a number taken concurrently since the check rolls back only itself
        "INSERT ticket",
        "RELEASE",
        *_outbox_inserts(),  # added to the session by open_ticket, written at the commit
    ], counted


def test_a_client_ticket_with_service_custom_field_and_attachment_takes_thirteen_on_sqlite(
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

    assert opened.ticket.service_id == service.id
    # The unit of work orders the inserts of unrelated tables as it likes.
    assert sorted(counted) == sorted(
        [
            "SELECT client_account",
            "SELECT user",  # the account's owner, the requester when no user is named
            "SELECT department",
            "SELECT custom_field",
            "SELECT service",  # owned by this client, or refused
            "SELECT ticket",
            "SAVEPOINT",
            "INSERT ticket",
            "RELEASE",
            "INSERT custom_field_value",
            "INSERT attachment",
            *_outbox_inserts(),
        ]
    ), counted
