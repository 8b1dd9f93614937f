"""Signing out, or a new password, ends every session of that account, copies of the cookie too.

A session records the account's session generation when it signs in; signing out and setting
a password move the generation on, and a session of another generation opens nothing.
"""

import pytest

from portal.extensions import db
from tests.factories import PASSWORD

STAFF_PAGE = "/staff/"
CLIENT_PAGE = "/tickets"


def copy_of(browser, app):
    """Another browser holding a copy of `browser`'s session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    return thief


def signed_in_as_staff(app, member):
    browser = app.test_client()
    response = browser.post(
        "/staff/login", data={"username": member.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return browser


def signed_in_as_user(app, user):
    browser = app.test_client()
    response = browser.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    return browser


def opens_staff_page(browser) -> bool:
    return browser.get(STAFF_PAGE).status_code == 200


def opens_client_page(browser) -> bool:
    return browser.get(CLIENT_PAGE).status_code == 200


@pytest.fixture
def user(make):
    return make.client_account().owner


def test_a_copy_of_a_staff_cookie_opens_nothing_after_sign_out(app, staff_member):
    browser = signed_in_as_staff(app, staff_member)
    thief = copy_of(browser, app)
    assert opens_staff_page(thief)

    browser.post("/staff/logout")

    assert not opens_staff_page(thief)
    assert thief.post("/staff/tickets/new", data={}).status_code == 403


def test_a_copy_of_a_client_cookie_opens_nothing_after_sign_out(app, user):
    browser = signed_in_as_user(app, user)
    thief = copy_of(browser, app)
    assert opens_client_page(thief)

    browser.post("/logout")

    assert not opens_client_page(thief)


def test_signing_out_ends_the_accounts_other_sessions_and_no_one_elses(app, make, staff_member):
    laptop = signed_in_as_staff(app, staff_member)
    phone = signed_in_as_staff(app, staff_member)
    colleague = signed_in_as_staff(app, make.staff())

    laptop.post("/staff/logout")

    assert not opens_staff_page(phone)
    assert opens_staff_page(colleague)
    assert opens_staff_page(signed_in_as_staff(app, staff_member))


def test_a_new_staff_password_ends_every_session(app, staff_member):
    browser = signed_in_as_staff(app, staff_member)

    staff_member.set_password(PASSWORD)
    db.session.commit()

    assert not opens_staff_page(browser)


def test_a_new_client_password_ends_every_session(app, user):
    browser = signed_in_as_user(app, user)

    user.set_password(PASSWORD)
    db.session.commit()

    assert not opens_client_page(browser)


def test_setting_the_password_with_create_staff_ends_every_session(app, staff_member):
    browser = signed_in_as_staff(app, staff_member)

    result = app.test_cli_runner().invoke(
        args=["create-staff", staff_member.username, "--password", "a new password"]
    )

    assert result.exit_code == 0, result.output
    assert not opens_staff_page(browser)
