"""Staff sign in with username and password; inactive staff cannot; `next` stays on this site."""

from portal.extensions import db
from tests.factories import PASSWORD


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post("/staff/login", data={"username": username, "password": password, **extra})


def test_the_login_page_asks_for_username_and_password(client):
    page = client.get("/staff/login").get_data(as_text=True)
    assert '<label for="username">Username</label>' in page
    assert '<label for="password">Password</label>' in page


def test_a_staff_member_signs_in_and_reaches_the_ticket_list(client, make):
    member = make.staff()
    response = sign_in(client, member.username)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_a_wrong_password_is_refused(client, make):
    member = make.staff()
    response = sign_in(client, member.username, "not the password")
    assert response.status_code == 401
    assert "Incorrect username or password." in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_an_unknown_username_gets_the_same_answer(client):
    response = sign_in(client, "nobody")
    assert response.status_code == 401
    assert "Incorrect username or password." in response.get_data(as_text=True)


def test_an_inactive_staff_member_cannot_sign_in(client, make):
    member = make.staff(active=False)
    response = sign_in(client, member.username)
    assert response.status_code == 401
    assert "Incorrect username or password." in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_a_staff_member_deactivated_after_sign_in_is_signed_out(staff_client, staff_member):
    staff_member.active = False
    db.session.commit()
    response = staff_client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")


def test_sign_in_renews_the_session(client, make):
    member = make.staff()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, member.username)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"staff:{member.id}"


def test_next_leads_to_a_page_of_this_site(client, make):
    member = make.staff()
    response = sign_in(client, member.username, next="/staff/tickets/new")
    assert response.headers["Location"] == "/staff/tickets/new"


def test_next_never_leads_to_another_site(client, make):
    member = make.staff()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        client.post("/staff/logout")
        response = sign_in(client, member.username, next=target)
        assert response.headers["Location"] == "/staff/", target


def test_the_login_redirect_carries_next(client):
    response = client.get("/staff/tickets/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login?next=/staff/tickets/new"
    assert 'name="next" value="/staff/tickets/new"' in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


def test_sign_out_is_a_post_and_ends_the_session(staff_client):
    assert staff_client.get("/staff/logout").status_code == 405
    response = staff_client.post("/staff/logout")
    assert response.status_code == 302
    assert staff_client.get("/staff/").status_code == 302
