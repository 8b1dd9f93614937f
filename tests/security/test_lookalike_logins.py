"""A look-alike of a username or email address never signs in as the real account.

MariaDB's collation finds "ádmin" and its fullwidth form for "admin"; the stored name must still
match exactly, so that a look-alike is neither a way in nor a way around the account's limits.
"""

import pytest

from tests.factories import PASSWORD


@pytest.mark.parametrize("typed", ["ádmin", "\uff21\uff24\uff2d\uff29\uff2e", "admin ", "Admin"])
def test_a_look_alike_staff_username_is_refused(client, make, typed):
    make.staff(username="admin")

    response = client.post("/staff/login", data={"username": typed, "password": PASSWORD})

    # "admin " is stripped to the real name, as the form always did; the rest are other names.
    assert response.status_code == (302 if typed.strip() == "admin" else 401)


@pytest.mark.parametrize(
    "typed",
    [
        "démo.client@exämple.com",
        "\uff44\uff45\uff4d\uff4f.client@example.com",
        "demo.cliént@example.com",
    ],
)
def test_a_look_alike_email_address_is_refused(client, make, typed):
    make.user(email="demo.client@example.com")

    response = client.post("/login", data={"email": typed, "password": PASSWORD})

    assert response.status_code == 401


def test_the_real_address_in_another_case_signs_in(client, make):
    make.user(email="demo.client@example.com")

    response = client.post(
        "/login", data={"email": "Demo.Client@Example.com", "password": PASSWORD}
    )

    assert response.status_code == 303
