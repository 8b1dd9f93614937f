"""With CSRF protection on, as in production, the ticket page's forms need the page's token."""

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Ticket, TicketNote, TicketReply, TicketStatus
from portal.tickets import OpenTicketRequest, open_ticket
from tests.factories import PASSWORD


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def ticket(department, settings) -> Ticket:
    opened = open_ticket(
        db.session,
        OpenTicketRequest(
            deptid=department.id, subject="S", message="M", name="N", email="n@example.com"
        ),
        settings,
    )
    db.session.commit()
    return opened


@pytest.fixture
def browser(app, staff_member):
    """A staff member signed in through the login form, token and all."""
    browser = app.test_client()
    page = browser.get("/staff/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = browser.post(
        "/staff/login",
        data={"username": staff_member.username, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    return browser


def posts(page: str) -> dict[str, dict]:
    reply_draft, note_draft = re.findall(r'name="draft" value="([^"]+)"', page)
    return {
        "reply": {"message": "Hi", "status": "Answered", "draft": reply_draft},
        "note": {"message": "Hi", "draft": note_draft},
        "change": {"status": "On Hold"},
        "close": {},
    }


@pytest.mark.parametrize("forged", [{}, {"csrf_token": "forged"}])
def test_every_ticket_form_refuses_a_post_without_the_pages_token(browser, ticket, forged):
    page = browser.get(f"/staff/tickets/{ticket.tid}").text
    for action, data in posts(page).items():
        response = browser.post(f"/staff/tickets/{ticket.tid}/{action}", data={**data, **forged})
        assert response.status_code == 400, action
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN
    assert db.session.scalar(select(func.count(TicketReply.id))) == 0
    assert db.session.scalar(select(func.count(TicketNote.id))) == 0


def test_the_pages_token_is_accepted(browser, ticket):
    page = browser.get(f"/staff/tickets/{ticket.tid}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for action, data in posts(page).items():
        response = browser.post(
            f"/staff/tickets/{ticket.tid}/{action}", data={**data, "csrf_token": token}
        )
        assert response.status_code == 303, action
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.CLOSED
    assert len(ticket.replies) == len(ticket.notes) == 1
