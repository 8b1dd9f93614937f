"""Every page that shows a ticket's access code is sent with `Cache-Control: no-store`.

The code opens the ticket to whoever reads it, so no browser or proxy cache may keep such a page
(for the next person at a shared computer, or for Back after signing out).
"""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Ticket
from portal.tickets import OpenTicketRequest, open_ticket
from tests.factories import PASSWORD
from tests.security.conftest import answer


@pytest.fixture
def account(make):
    return make.client_account()


@pytest.fixture
def ticket(department, settings, account):
    opened = open_ticket(
        db.session,
        OpenTicketRequest(deptid=department.id, subject="S", message="M", clientid=account.id),
        settings,
    )
    db.session.commit()
    return opened


@pytest.fixture
def client_user(client, account):
    response = client.post("/login", data={"email": account.owner.email, "password": PASSWORD})
    assert response.status_code == 303
    return client


def assert_not_stored(response, code: str) -> None:
    assert response.status_code == 200
    assert code in response.text
    assert response.headers.get("Cache-Control") == "no-store"


def test_the_client_ticket_page_and_its_close_page(client_user, ticket):
    query = {"tid": ticket.tid, "c": ticket.access_code}

    assert_not_stored(client_user.get("/viewticket", query_string=query), ticket.access_code)
    assert_not_stored(client_user.get("/viewticket/close", query_string=query), ticket.access_code)


def test_my_tickets(client_user, ticket):
    assert_not_stored(client_user.get("/tickets"), ticket.access_code)


def test_the_confirmation_of_a_new_ticket(client, department):
    sent = client.post(
        "/submitticket",
        data={
            "deptid": department.id,
            "subject": "S",
            "message": "M",
            "name": "Gina Guest",
            "email": "gina@example.com",
        },
    )
    assert sent.status_code == 303

    confirmation = client.get(sent.headers["Location"])

    db.session.rollback()
    assert_not_stored(confirmation, db.session.scalars(select(Ticket)).one().access_code)


def test_the_staff_ticket_page_and_its_confirmation(staff_client, ticket):
    for path in (f"/staff/tickets/{ticket.tid}", f"/staff/tickets/{ticket.tid}/created"):
        assert_not_stored(staff_client.get(path), ticket.access_code)


def test_the_api_answer_that_opened_a_ticket(call_api, department):
    response = call_api(
        {"deptid": department.id, "subject": "S", "message": "M", "name": "N", "email": "n@x.org"}
    )

    assert response.headers.get("Cache-Control") == "no-store"
    assert answer(response)["c"]
