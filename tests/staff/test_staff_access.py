"""Every staff page and action needs a signed-in staff member; the two areas grant nothing to
each other's sessions."""

import pytest

from portal.extensions import db
from portal.tickets import IncomingFile, OpenTicketRequest, TicketSettings, open_ticket
from tests.factories import PASSWORD

STAFF_PAGES = [
    "/staff",
    "/staff/",
    "/staff/?deptid=1&status=Open",
    "/staff/tickets/new",
    "/staff/tickets/{tid}",
    "/staff/tickets/{tid}/created",
    "/staff/tickets/{tid}/attachments/{attachment_id}",
    "/staff/clients/search?q=Carla",
    "/staff/clients/{clientid}/choices",
    "/staff/tickets/new/fields?deptid={deptid}",
]
STAFF_ACTIONS = ["/staff/tickets/new", "/staff/logout"]


@pytest.fixture
def account_ticket(app, make):
    """A ticket of a client account, with one attachment."""
    account = make.client_account()
    request = OpenTicketRequest(
        clientid=account.id,
        deptid=make.department().id,
        subject="Private",
        message="Account business",
        uploads=[IncomingFile.from_bytes("notes.txt", b"secret notes")],
    )
    opened = open_ticket(db.session, request, TicketSettings.from_config(app.config))
    db.session.commit()
    return opened


def staff_paths(ticket):
    return [
        path.format(
            tid=ticket.tid,
            attachment_id=ticket.attachments[0].id,
            clientid=ticket.client_id,
            deptid=ticket.department_id,
        )
        for path in STAFF_PAGES
    ]


def test_every_staff_page_sends_a_stranger_to_the_staff_login(client, account_ticket):
    for path in staff_paths(account_ticket):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/staff/login?next="), path


def test_every_staff_action_is_refused_to_a_stranger(client):
    for path in STAFF_ACTIONS:
        assert client.post(path, data={"subject": "x"}).status_code == 403, path


def test_a_client_users_session_grants_nothing_in_the_staff_area(client, account_ticket):
    owner = account_ticket.client.owner
    client.post("/login", data={"email": owner.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert session.get("_user_id") == f"user:{owner.id}", "the client login did not work"
    for path in staff_paths(account_ticket):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/staff/login"), path
    for path in STAFF_ACTIONS:
        assert client.post(path, data={"subject": "x"}).status_code == 403, path


def test_every_staff_page_opens_for_staff(staff_client, account_ticket):
    for path in staff_paths(account_ticket):
        assert staff_client.get(path, follow_redirects=True).status_code == 200, path


def test_a_staff_session_cannot_see_a_client_accounts_ticket_in_the_client_area(
    staff_client, account_ticket
):
    rights = {"tid": account_ticket.tid, "c": account_ticket.access_code}
    view = staff_client.get("/viewticket", query_string=rights)
    assert view.status_code == 302
    assert view.headers["Location"].startswith("/login")
    assert "Account business" not in view.get_data(as_text=True)

    download = staff_client.get(
        f"/viewticket/attachment/{account_ticket.attachments[0].id}", query_string=rights
    )
    assert download.status_code in (302, 404)
    assert b"secret notes" not in download.data

    closing = staff_client.post("/viewticket/close", data=rights)
    assert closing.status_code in (302, 303, 403, 404)
    db.session.refresh(account_ticket)
    assert account_ticket.status == "Open"


def test_a_staff_session_has_no_my_tickets_in_the_client_area(staff_client):
    response = staff_client.get("/tickets")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_staff_session_does_not_replace_the_access_code_in_the_client_area(
    staff_client, make, app
):
    opened = open_ticket(
        db.session,
        OpenTicketRequest(
            name="Gus Guest",
            email="gus@example.com",
            deptid=make.department().id,
            subject="Guest question",
            message="Hello",
        ),
        TicketSettings.from_config(app.config),
    )
    db.session.commit()
    wrong = staff_client.get("/viewticket", query_string={"tid": opened.tid, "c": "wrong"})
    assert "Guest question" not in wrong.get_data(as_text=True)
