"""Fixtures for the staff area: a signed-in staff member and the records a ticket names."""

import pytest

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
