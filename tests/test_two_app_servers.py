"""Two app servers with one configuration serve one visitor's requests in any order.

The README's deployment puts app servers behind a load balancer without sticky sessions, so
each request of a visit may land on either: whatever one server issued (the session, the CSRF
token, the draft token, the files it holds) must be good on the other.
"""

import io

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.mail import relay_of
from portal.models import Ticket
from tests.factories import PASSWORD
from tests.pages import hidden_fields

FIRST, SECOND = 0, 1


@pytest.fixture
def app_config(app_config):
    # On, as in production: the token is kept in the session cookie both servers must read.
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def second_server(app, app_config):
    """Another app server: the same configuration, database and shared directories."""
    other = create_app(app_config)
    yield other
    # Its after-commit email goes out from a thread of its own, which must be done before the
    # first server's teardown empties the tables.
    relay = relay_of(other)
    assert relay is None or relay.wait(30), "the second server's email delivery still running"
    with other.app_context():
        db.engine.dispose()


class Visitor:
    """One browser; the load balancer hands each of its requests to the server named."""

    def __init__(self, *servers):
        self.clients = [server.test_client() for server in servers]
        self.session_cookie: str | None = None

    def get(self, server: int, path: str):
        return self._send(server, "GET", path)

    def post(self, server: int, path: str, data: dict):
        return self._send(server, "POST", path, data=data, content_type="multipart/form-data")

    def _send(self, server: int, method: str, path: str, **options):
        client = self.clients[server]
        if self.session_cookie is None:
            client.delete_cookie("session")
        else:
            client.set_cookie("session", self.session_cookie)
        response = client.open(path, method=method, **options)
        cookie = client.get_cookie("session")
        self.session_cookie = cookie.value if cookie else None
        return response


@pytest.fixture
def visitor(app, second_server) -> Visitor:
    return Visitor(app, second_server)


def guest_fields(department, **fields) -> dict:
    return {
        "deptid": str(department.id),
        "name": "Gwen Guest",
        "email": "gwen@example.com",
        "subject": "Cannot log in",
        "message": "Since this morning.",
        "priority": "High",
        "action": "submit",
        "attachments": [],
        **fields,
    }


def tickets() -> list[Ticket]:
    db.session.rollback()  # a fresh snapshot: MariaDB's REPEATABLE READ keeps the old one
    return list(db.session.scalars(select(Ticket)))


def test_a_form_shown_by_one_server_opens_its_ticket_on_the_other(visitor, make):
    department = make.department()
    form = visitor.get(FIRST, f"/submitticket?deptid={department.id}").text

    sent = visitor.post(
        SECOND, "/submitticket", {**hidden_fields(form), **guest_fields(department)}
    )
    confirmation = visitor.get(FIRST, sent.location)

    assert sent.status_code == 303
    [ticket] = tickets()
    assert ticket.subject == "Cannot log in"
    assert confirmation.status_code == 200
    assert ticket.tid in confirmation.text and ticket.access_code in confirmation.text


def test_files_held_by_one_server_go_with_the_ticket_sent_to_the_other(visitor, make):
    department = make.department()
    form = visitor.get(FIRST, f"/submitticket?deptid={department.id}").text
    notes = (io.BytesIO(b"the error log"), "notes.txt")

    refused = visitor.post(
        FIRST,
        "/submitticket",
        {**hidden_fields(form), **guest_fields(department, subject="", attachments=[notes])},
    )
    sent = visitor.post(
        SECOND, "/submitticket", {**hidden_fields(refused.text), **guest_fields(department)}
    )

    assert refused.status_code == 422 and "Remove notes.txt" in refused.text
    assert sent.status_code == 303
    [ticket] = tickets()
    assert [(a.original_name, a.size) for a in ticket.attachments] == [("notes.txt", 13)]


def test_a_form_sent_again_to_the_other_server_opens_no_second_ticket(visitor, make):
    department = make.department()
    form = visitor.get(FIRST, f"/submitticket?deptid={department.id}").text
    fields = {**hidden_fields(form), **guest_fields(department)}

    first = visitor.post(FIRST, "/submitticket", fields)
    again = visitor.post(SECOND, "/submitticket", fields)

    assert first.status_code == again.status_code == 303
    assert again.location == first.location
    assert db.session.scalar(select(func.count(Ticket.id))) == 1
    assert "no second ticket was opened" in visitor.get(FIRST, again.location).text


def test_a_client_signed_in_on_one_server_is_signed_in_on_the_other(visitor, make):
    user = make.user(first_name="Carla", last_name="Client")
    make.client_account(owner=user)
    login = visitor.get(FIRST, "/login").text

    signed_in = visitor.post(
        SECOND, "/login", {**hidden_fields(login), "email": user.email, "password": PASSWORD}
    )
    my_tickets = visitor.get(FIRST, "/tickets")

    assert signed_in.status_code == 303
    assert my_tickets.status_code == 200
    assert "Signed in as Carla Client" in my_tickets.text


def test_staff_signed_in_on_one_server_open_tickets_on_the_other(visitor, make):
    staff_member = make.staff()
    login = visitor.get(FIRST, "/staff/login").text

    signed_in = visitor.post(
        SECOND,
        "/staff/login",
        {**hidden_fields(login), "username": staff_member.username, "password": PASSWORD},
    )
    new_ticket = visitor.get(FIRST, "/staff/tickets/new")

    assert signed_in.status_code == 302
    assert new_ticket.status_code == 200
    assert "Open New Ticket" in new_ticket.text
