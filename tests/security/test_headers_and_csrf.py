"""Security headers on every kind of response, cookie flags, CSRF on every state-changing form."""

import re

import pytest
from flask import Response
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import Ticket, TicketStatus
from portal.security import add_security_headers
from portal.tickets import OpenTicketRequest, open_ticket
from tests.factories import PASSWORD
from tests.security.conftest import API_URL


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def ticket(department, settings):
    opened = open_ticket(
        db.session,
        OpenTicketRequest(
            deptid=department.id, subject="S", message="M", name="N", email="n@example.com"
        ),
        settings,
    )
    db.session.commit()
    return opened


def csrf_token_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def assert_security_headers(response, where: str) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    directives = dict(
        [*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip()
    )
    scripts = directives.get("script-src", directives.get("default-src", ""))
    assert scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert directives.get("frame-ancestors") == "'none'", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), where
    assert headers.get("X-Content-Type-Options") == "nosniff", where


def test_every_kind_of_response_has_the_security_headers(
    app, client, staff_client, department, ticket, call_api
):
    responses = {
        "client home": client.get("/"),
        "client login": client.get("/login"),
        "client form": client.get(f"/submitticket?deptid={department.id}"),
        "client ticket": client.get(f"/viewticket?tid={ticket.tid}&c={ticket.access_code}"),
        "ticket not found": client.get("/viewticket?tid=x&c=y"),
        "not found": client.get("/no-such-page"),
        "method not allowed": client.get("/logout"),
        "csrf refused": client.post("/logout"),
        "redirect": client.get("/tickets"),
        "static file": client.get("/static/portal.css"),
        "static script": client.get("/static/js/compose.js"),
        "staff login": client.get("/staff/login"),
        "staff list": staff_client.get("/staff/"),
        "staff ticket": staff_client.get(f"/staff/tickets/{ticket.tid}"),
        "staff not found": staff_client.get("/staff/tickets/NOPE"),
        "api answer": call_api({"deptid": department.id}),
        "api refusal": client.post(API_URL, data={"action": "OpenTicket"}),
        "api wrong method": client.get(API_URL),
        "api document": client.get("/includes/api.openapi.json"),
    }
    app.config["MAX_CONTENT_LENGTH"] = 10
    responses["too large"] = client.post("/submitticket", data={"message": "x" * 100})
    responses["api too large"] = client.post(API_URL, data={"message": "x" * 100})

    assert responses["static file"].status_code == 200
    assert responses["too large"].status_code == responses["api too large"].status_code == 413
    for where, response in responses.items():
        assert_security_headers(response, where)


def test_a_header_the_view_set_itself_is_kept_and_not_repeated():
    response = Response("x", headers={"x-frame-options": "SAMEORIGIN"})

    add_security_headers(response)

    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("base_url", "secure"), [("https://portal.example", True), ("http://portal.test", False)]
)
def test_session_cookies_are_httponly_lax_and_secure_over_https(app_config, make, base_url, secure):
    user = make.client_account().owner
    staff = make.staff()
    app = create_app({**app_config, "BASE_URL": base_url, "WTF_CSRF_ENABLED": False})

    client_login = app.test_client().post(
        "/login", data={"email": user.email, "password": PASSWORD}
    )
    staff_login = app.test_client().post(
        "/staff/login", data={"username": staff.username, "password": PASSWORD}
    )

    for response in (client_login, staff_login):
        [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
        flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
        assert "httponly" in flags
        assert flags["samesite"].strip() == "SameSite=Lax"
        assert ("secure" in flags) is secure


# --- CSRF ---------------------------------------------------------------------------------


def forged_token(app) -> str:
    """A real token, but from another browser's session."""
    other = app.test_client()
    return csrf_token_of(other.get("/login").text)


@pytest.fixture(params=["no token", "another session's token"])
def forged(request, app):
    """The extra form fields of a forged POST."""
    if request.param == "no token":
        return {}
    return {"csrf_token": forged_token(app)}


def signed_in_client(app, user):
    browser = app.test_client()
    token = csrf_token_of(browser.get("/login").text)
    response = browser.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code in (302, 303)
    return browser


def signed_in_staff(app, staff):
    browser = app.test_client()
    token = csrf_token_of(browser.get("/staff/login").text)
    response = browser.post(
        "/staff/login",
        data={"username": staff.username, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    return browser


def tickets() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Ticket.id)))


def test_a_real_token_is_accepted(app, make):
    """The control for the forged posts below: the same post with the session's token works."""
    browser = signed_in_client(app, make.client_account().owner)
    token = csrf_token_of(browser.get("/").text)

    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303


def test_client_login_refuses_a_forged_post(app, make, forged):
    user = make.client_account().owner
    browser = app.test_client()

    response = browser.post("/login", data={"email": user.email, "password": PASSWORD, **forged})

    assert response.status_code == 400
    assert browser.get("/tickets").status_code == 302  # still signed out


def test_client_logout_refuses_a_forged_post(app, make, forged):
    browser = signed_in_client(app, make.client_account().owner)

    assert browser.post("/logout", data=forged).status_code == 400
    assert browser.get("/tickets").status_code == 200  # still signed in


def test_submit_and_preview_refuse_a_forged_post(app, client, department, forged):
    fields = {"deptid": department.id, "name": "N", "email": "n@example.com", "subject": "S"}

    submit = client.post("/submitticket", data={**fields, "message": "M", **forged})
    preview = client.post("/markdown-preview", data={"message": "**hi**", **forged})

    assert submit.status_code == preview.status_code == 400
    assert "<strong>" not in preview.text
    assert tickets() == 0


def test_closing_a_ticket_refuses_a_forged_post(app, client, ticket, forged):
    response = client.post(
        "/viewticket/close", data={"tid": ticket.tid, "c": ticket.access_code, **forged}
    )

    assert response.status_code == 400
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN


def test_switching_account_refuses_a_forged_post(app, make, forged):
    first = make.client_account()
    second = make.client_account()
    make.member(second, first.owner)
    browser = signed_in_client(app, first.owner)

    response = browser.post("/account", data={"account_id": second.id, **forged})

    assert response.status_code == 400
    with browser.session_transaction() as session:
        assert session.get("acting_account_id") != second.id


def test_staff_login_refuses_a_forged_post(app, make, forged):
    staff = make.staff()
    browser = app.test_client()

    response = browser.post(
        "/staff/login", data={"username": staff.username, "password": PASSWORD, **forged}
    )

    assert response.status_code == 400
    assert browser.get("/staff/").status_code == 302  # still signed out


def test_staff_logout_and_open_ticket_refuse_a_forged_post(app, make, department, forged):
    browser = signed_in_staff(app, make.staff())

    opened = browser.post(
        "/staff/tickets/new",
        data={
            "action": "open",
            "deptid": department.id,
            "name": "N",
            "email": "n@example.com",
            "subject": "S",
            "message": "M",
            **forged,
        },
    )
    logout = browser.post("/staff/logout", data=forged)

    assert opened.status_code == logout.status_code == 400
    assert tickets() == 0
    assert browser.get("/staff/").status_code == 200  # still signed in
