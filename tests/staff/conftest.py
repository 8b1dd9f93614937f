"""Fixtures for the staff area: a signed-in staff member and the records a ticket names."""

import pytest
from flask import g

from tests.factories import PASSWORD


@pytest.fixture
def staff_member(make):
    return make.staff()


@pytest.fixture
def staff_client(client, staff_member):
    """The test client, signed in as `staff_member` through the login form."""
    response = client.post(
        "/staff/login", data={"username": staff_member.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def department(make):
    return make.department(name="Support")


def forget_cached_identity() -> None:
    """Drop Flask-Login's per-request identity cache.

    The test app context outlives each test request, so the cache would carry over from one
    request to the next; a real request starts without it and loads the identity afresh.
    """
    g.pop("_login_user", None)
