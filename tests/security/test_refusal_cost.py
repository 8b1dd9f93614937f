"""Every refused sign-in costs the same password check, so that no answer is faster than another.

A name nobody has, a wrong password, an account without a password and a deactivated staff
member are all refused with one scrypt hash computed: the time an answer takes reveals neither
which names exist nor which accounts are deactivated.
"""

import hashlib

import pytest

from tests.factories import PASSWORD
from tests.security.conftest import API_URL


@pytest.fixture
def count_password_hashes(monkeypatch):
    """Start counting the password hashes computed; returns the list that grows with each."""

    def start() -> list:
        computed = []
        scrypt = hashlib.scrypt

        def counting_scrypt(*args, **kwargs):
            computed.append(1)
            return scrypt(*args, **kwargs)

        monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
        return computed

    return start


def staff_sign_in(client, username, password):
    return client.post("/staff/login", data={"username": username, "password": password})


@pytest.mark.parametrize(
    ("who", "password"),
    [
        ("nobody", PASSWORD),
        ("active", "not the password"),
        ("deactivated", PASSWORD),
        ("deactivated", "not the password"),
        ("without a password", PASSWORD),
    ],
)
def test_every_refused_staff_sign_in_computes_one_password_hash(
    client, make, count_password_hashes, who, password
):
    make.staff(username="active")
    make.staff(username="deactivated", active=False)
    make.staff(username="without a password").password_hash = None
    make.department()  # commits the cleared password

    hashes_computed = count_password_hashes()

    response = staff_sign_in(client, who, password)

    assert response.status_code == 401
    assert len(hashes_computed) == 1


def test_a_right_password_computes_one_password_hash_too(client, make, count_password_hashes):
    make.staff(username="active")
    hashes_computed = count_password_hashes()

    assert staff_sign_in(client, "active", PASSWORD).status_code == 302
    assert len(hashes_computed) == 1


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("nobody@example.com", PASSWORD),
        ("user@example.com", "not the password"),
        ("no-password@example.com", PASSWORD),
    ],
)
def test_every_refused_client_sign_in_computes_one_password_hash(
    client, make, count_password_hashes, email, password
):
    make.user(email="user@example.com")
    make.user(email="no-password@example.com").password_hash = None
    make.department()

    hashes_computed = count_password_hashes()

    response = client.post("/login", data={"email": email, "password": password})

    assert response.status_code == 401
    assert len(hashes_computed) == 1


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("nobody", PASSWORD),
        ("active", "not the password"),
        ("deactivated", PASSWORD),
        ("deactivated", "not the password"),
    ],
)
def test_every_refused_legacy_api_login_computes_one_password_hash(
    app, client, make, count_password_hashes, username, password
):
    app.config["API_ALLOW_LEGACY_PASSWORD_AUTH"] = True
    make.staff(username="active")
    make.staff(username="deactivated", active=False)
    digest = hashlib.md5(password.encode()).hexdigest()  # noqa: S324 - WHMCS's legacy format
    hashes_computed = count_password_hashes()

    response = client.post(
        API_URL,
        data={"action": "OpenTicket", "username": username, "password": digest},
    )

    assert response.status_code == 403
    assert len(hashes_computed) == 1
