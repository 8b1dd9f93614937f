"""Two guests, and users of two client accounts, never see each other's secrets or texts.

Each page is read as a whole: nothing one visitor typed or was given (tokens, names, addresses,
ticket texts, access codes) may appear on a page another visitor gets.
"""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Ticket
from tests.factories import PASSWORD
from tests.pages import hidden_fields


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def guest_fields(department, who: str) -> dict:
    return {
        "deptid": department.id,
        "name": f"Guest {who}",
        "email": f"guest-{who}@example.com",
        "subject": f"Subject of {who}",
        "message": f"The message only {who} wrote.",
        "action": "submit",
    }


def open_as_guest(browser, department, who: str) -> tuple[dict, str, str]:
    """Open a ticket through the form; the form's hidden values, and the ticket's tid and code."""
    page = browser.get(f"/submitticket?deptid={department.id}").text
    hidden = hidden_fields(page)
    sent = browser.post("/submitticket", data={**hidden, **guest_fields(department, who)})
    assert sent.status_code == 303, sent.text
    confirmation = browser.get(sent.headers["Location"]).text
    ticket = db.session.scalar(select(Ticket).where(Ticket.subject == f"Subject of {who}"))
    assert ticket.tid in confirmation and ticket.access_code in confirmation
    return hidden, ticket.tid, ticket.access_code


def secrets_of(hidden: dict, tid: str, code: str, who: str) -> list[str]:
    return [
        hidden["csrf_token"],
        hidden["draft"],
        hidden["shown"],
        code,
        f"Guest {who}",
        f"guest-{who}@example.com",
        f"Subject of {who}",
        f"The message only {who} wrote.",
    ]


def test_two_guests_never_see_each_others_values(app, make):
    department = make.department()
    ana, ben = app.test_client(), app.test_client()
    ana_hidden, ana_tid, ana_code = open_as_guest(ana, department, "Ana")
    _, ben_tid, ben_code = open_as_guest(ben, department, "Ben")

    ben_pages = [
        ben.get(f"/submitticket?deptid={department.id}").text,
        ben.get(f"/submitticket/complete/{ben_tid}").text,
        ben.get(f"/viewticket?tid={ben_tid}&c={ben_code}").text,
    ]
    for secret in secrets_of(ana_hidden, ana_tid, ana_code, "Ana"):
        for page in ben_pages:
            assert secret not in page
    # Ben's own view shows Ben's ticket, and Ana's confirmation is not Ben's to see.
    assert "The message only Ben wrote." in ben_pages[2]
    assert ben.get(f"/submitticket/complete/{ana_tid}").status_code == 302


def test_a_guest_cannot_send_another_guests_form(app, make):
    department = make.department()
    ana, ben = app.test_client(), app.test_client()
    ana_page = ana.get(f"/submitticket?deptid={department.id}").text
    ben_page = ben.get(f"/submitticket?deptid={department.id}").text
    fields = guest_fields(department, "Ben")

    crossed = ben.post("/submitticket", data={**hidden_fields(ana_page), **fields})
    own = ben.post("/submitticket", data={**hidden_fields(ben_page), **fields})

    assert crossed.status_code == 400  # Ana's CSRF token is not Ben's
    assert own.status_code == 303
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


def test_users_of_two_accounts_never_see_each_others_tickets(app, make, open_ticket_now):
    department = make.department()
    first, second = make.client_account(), make.client_account()
    first_ticket = open_ticket_now(
        department, account=first, subject="Subject of the first", message="Words of the first"
    )
    second_ticket = open_ticket_now(
        department, account=second, subject="Subject of the second", message="Words of the second"
    )
    browser = app.test_client()
    login = hidden_fields(browser.get("/login").text)
    signed_in = browser.post(
        "/login", data={**login, "email": second.owner.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 303

    pages = [
        browser.get("/tickets").text,
        browser.get(f"/viewticket?tid={second_ticket.tid}&c={second_ticket.access_code}").text,
        browser.get(f"/submitticket?deptid={department.id}").text,
    ]
    for secret in (
        first_ticket.tid,
        first_ticket.access_code,
        "Subject of the first",
        "Words of the first",
        first.owner.email,
        first.owner.name,
    ):
        for page in pages:
            assert secret not in page
    assert "Words of the second" in pages[1]
    other = browser.get(f"/viewticket?tid={first_ticket.tid}&c={first_ticket.access_code}")
    assert other.status_code == 404
