"""Opening a ticket costs a small number of SQL statements, whatever the data and its size.

Counted from the start of open_ticket() to the end of the commit a door makes after it, so that
anything left for the commit to write counts too. Upper bounds, not exact lists: a refactor may
move a statement, but a lazy load or a query per row (per custom field, attachment or stored
ticket) fails here before it slows every ticket down.
"""

import threading

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.tickets import IncomingFile, OpenTicketRequest, idempotency, open_ticket
from portal.tickets.replies import ReplyRequest, add_reply

# Reading the department and its fields, numbering the ticket in a savepoint, writing the
# ticket and its outbox rows: about eight statements, with some room.
GUEST_TICKET_BOUND = 10
# A client's ticket also reads the account, its user or contact, and the service it names.
CLIENT_TICKET_BOUND = 14


@pytest.fixture
def statements(app):
    """The statements this test's thread sends while the fixture's list is being recorded."""
    recorded: list[str] = []
    test_thread = threading.get_ident()

    def record(conn, cursor, statement, parameters, context, executemany):
        # Delivery after the commit runs in a thread of its own; it is not the ticket's cost.
        if threading.get_ident() == test_thread:
            recorded.append(" ".join(statement.split()[:4]))

    event.listen(db.engine, "before_cursor_execute", record)
    yield recorded
    event.remove(db.engine, "before_cursor_execute", record)


def opened_with_statements(statements, settings, request, **options) -> list[str]:
    db.session.rollback()
    statements.clear()
    open_ticket(db.session, request, settings, **options)
    db.session.commit()
    return list(statements)


def test_a_guest_ticket_stays_under_its_bound(statements, settings, make):
    department = make.department()
    request = OpenTicketRequest(
        deptid=department.id, subject="Hi", message="Text", name="Gus", email="gus@example.com"
    )
    assert len(opened_with_statements(statements, settings, request)) <= GUEST_TICKET_BOUND


@pytest.mark.parametrize("requester", ["owner", "user", "contact"])
def test_a_client_ticket_stays_under_its_bound(statements, settings, make, requester):
    department = make.department()
    make.custom_field(department)
    account = make.client_account()
    service = make.service(account)
    named = {
        "owner": {},
        "user": {"userid": account.owner.id},
        "contact": {"contactid": make.contact(account).id},
    }[requester]
    request = OpenTicketRequest(
        deptid=department.id,
        subject="Hi",
        message="Text",
        clientid=account.id,
        serviceid=service.id,
        customfields={department.custom_fields[0].id: "value"},
        uploads=[IncomingFile.from_bytes("notes.txt", b"notes")],
        **named,
    )
    assert len(opened_with_statements(statements, settings, request)) <= CLIENT_TICKET_BOUND


def test_only_the_rows_own_inserts_grow_with_custom_fields_and_attachments(
    statements, settings, make
):
    def counted(count: int) -> tuple[int, int]:
        department = make.department()
        fields = [make.custom_field(department) for _ in range(count)]
        request = OpenTicketRequest(
            deptid=department.id,
            subject="Hi",
            message="Text",
            name="Gus",
            email="gus@example.com",
            customfields={field.id: f"value {field.id}" for field in fields},
            uploads=[IncomingFile.from_bytes(f"n{i}.txt", b"x") for i in range(count)],
        )
        sent = opened_with_statements(statements, settings, request)
        return len(sent), sum(not s.startswith("INSERT") for s in sent)

    (one, one_not_inserts), (five, five_not_inserts) = counted(1), counted(5)
    # Four more field values and four more files: at most one INSERT each, no read at all.
    assert five_not_inserts == one_not_inserts
    assert five - one <= 8


def test_statements_do_not_grow_with_the_tickets_stored(statements, settings, make):
    department = make.department()

    def request() -> OpenTicketRequest:
        return OpenTicketRequest(
            deptid=department.id, subject="Hi", message="Text", name="G", email="g@example.com"
        )

    first = len(opened_with_statements(statements, settings, request()))
    for _ in range(30):
        open_ticket(db.session, request(), settings)
    db.session.commit()
    assert len(opened_with_statements(statements, settings, request())) == first


def test_a_repeated_submission_reads_its_key_and_opens_nothing(statements, settings, make):
    department = make.department()
    submission = idempotency.Submission(idempotency.CLIENT_FORM, "draft-1")
    request = OpenTicketRequest(
        deptid=department.id, subject="Hi", message="Text", name="G", email="g@example.com"
    )
    idempotency.open_ticket_once(db.session, submission, request, settings)
    db.session.commit()
    statements.clear()
    outcome = idempotency.open_ticket_once(db.session, submission, request, settings)
    db.session.commit()
    assert outcome.repeated
    assert not any(s.startswith("INSERT") for s in statements)
    assert len(statements) <= 2


def test_a_reply_and_the_thread_page_do_not_grow_with_the_conversation(
    statements, settings, make, client
):
    department = make.department(email="support@example.com")
    ticket = open_ticket(
        db.session,
        OpenTicketRequest(
            deptid=department.id, subject="Hi", message="Text", name="Gus", email="g@example.com"
        ),
        settings,
    )
    db.session.commit()
    agent = make.staff()
    costs, views = [], []
    for n in range(6):
        by_staff = n % 2 == 1
        request = ReplyRequest(
            message=f"reply {n}",
            uploads=[IncomingFile.from_bytes("a.txt", b"a")] if by_staff else [],
            client_area=not by_staff,
        )
        statements.clear()
        add_reply(db.session, ticket, request, settings, staff=agent if by_staff else None)
        db.session.commit()
        costs.append(len(statements))
        statements.clear()
        assert client.get(f"/viewticket?tid={ticket.tid}&c={ticket.access_code}").status_code == 200
        views.append(len(statements))

    # A reply: its row, its files, the ticket's update, its outbox row; a view: the ticket
    # with its department, files, replies and their files, and the draft's session.
    assert max(costs) <= 10, costs
    assert max(views) <= 10 and views[-1] == views[1], views
