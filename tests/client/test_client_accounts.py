"""Logging in and out, choosing an account, and the tickets a signed-in user opens."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Ticket
from tests.factories import PASSWORD


def test_a_wrong_password_is_refused(client, make):
    user = make.user()

    response = client.post("/login", data={"email": user.email, "password": "wrong"})

    assert response.status_code == 401
    assert "The email address or password is incorrect." in response.text


def test_the_session_is_renewed_at_login(client, make):
    user = make.client_account().owner
    with client.session_transaction() as session:
        session["planted_before_login"] = "attacker-chosen"
        session["csrf_token"] = "anonymous-token"

    client.post("/login", data={"email": user.email, "password": PASSWORD})

    with client.session_transaction() as session:
        assert "planted_before_login" not in session
        assert session.get("csrf_token") != "anonymous-token"
        assert session["_user_id"] == f"user:{user.id}"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_the_site(client, make, target):
    user = make.client_account().owner

    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "next": target}
    )

    assert response.location == "/"


def test_next_returns_to_a_page_of_this_site(client, make):
    user = make.client_account().owner

    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "next": "/tickets?page=2"}
    )

    assert response.location == "/tickets?page=2"


def test_logout_is_a_post(client, make, log_in):
    log_in(make.client_account().owner)

    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/tickets").status_code == 302


def test_a_signed_in_user_opens_a_ticket_for_their_account(client, make, log_in):
    account = make.client_account()
    service = make.service(account, product_name="VPS", domain="box.example.com")
    department = make.department()
    log_in(account.owner)

    page = client.get(f"/submitticket?deptid={department.id}").text
    response = client.post(
        "/submitticket",
        data={
            "deptid": department.id,
            "account_id": account.id,
            "subject": "Slow",
            "message": "Very slow",
            "related": f"S{service.id}",
            # Typed identities are ignored for a signed-in user.
            "name": "Someone Else",
            "email": "else@example.com",
        },
    )

    assert "VPS - box.example.com" in page and 'name="name"' not in page
    assert response.status_code == 303
    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.client_id, ticket.user_id) == (account.id, account.owner.id)
    assert (ticket.name, ticket.email) == (account.owner.name, account.owner.email)
    assert ticket.service_id == service.id


def test_another_accounts_service_cannot_be_related(client, make, log_in):
    account = make.client_account()
    foreign = make.service(make.client_account())
    foreign_domain = make.domain(make.client_account())
    department = make.department()
    log_in(account.owner)

    page = client.get(f"/submitticket?deptid={department.id}").text
    data = {"deptid": department.id, "account_id": account.id, "subject": "S", "message": "M"}
    service_response = client.post("/submitticket", data={**data, "related": f"S{foreign.id}"})
    domain_response = client.post(
        "/submitticket", data={**data, "related": f"D{foreign_domain.id}"}
    )

    assert foreign.label not in page
    assert service_response.status_code == domain_response.status_code == 422
    assert "Choose one of your services or domains" in service_response.text
    assert db.session.scalars(select(Ticket)).first() is None


def test_a_user_of_two_accounts_chooses_and_the_ticket_goes_there(client, make):
    first = make.client_account(company_name="First Ltd")
    user = first.owner
    second = make.client_account(company_name="Second Ltd")
    make.member(second, user)
    department = make.department()

    login = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "next": f"/submitticket?deptid={department.id}",
        },
    )
    assert login.location.startswith("/account?next=")
    chosen = client.post(
        "/account", data={"account_id": second.id, "next": f"/submitticket?deptid={department.id}"}
    )
    assert chosen.location == f"/submitticket?deptid={department.id}"
    page = client.get(chosen.location).text
    assert "Second Ltd" in page

    client.post(
        "/submitticket",
        data={"deptid": department.id, "account_id": second.id, "subject": "S", "message": "M"},
    )

    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.client_id, ticket.user_id) == (second.id, user.id)


def test_a_ticket_cannot_be_opened_for_an_account_the_user_is_not_in(client, make, log_in):
    account = make.client_account()
    other = make.client_account()
    department = make.department()
    log_in(account.owner)

    response = client.post(
        "/submitticket",
        data={"deptid": department.id, "account_id": other.id, "subject": "S", "message": "M"},
    )

    assert response.status_code == 422
    assert "Choose one of your own accounts" in response.text
    assert db.session.scalars(select(Ticket)).first() is None


def test_choosing_an_account_that_is_not_yours_changes_nothing(client, make, log_in):
    account = make.client_account()
    other = make.client_account()
    log_in(account.owner)

    client.post("/account", data={"account_id": other.id})

    with client.session_transaction() as session:
        assert session.get("acting_account_id") != other.id


def test_a_signed_in_user_may_use_a_clients_only_department(client, make, log_in):
    department = make.department(clients_only=True)
    log_in(make.client_account().owner)

    assert client.get(f"/submitticket?deptid={department.id}").status_code == 200
