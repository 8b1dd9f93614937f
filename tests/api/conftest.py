"""Fixtures for calling api.php as an integration would."""

import itertools

import pytest

from portal.extensions import db
from portal.models import StaffMember
from tests.api.api_calls import API_URL

_numbers = itertools.count(1)


@pytest.fixture
def department(app, make):
    return make.department()


@pytest.fixture
def api_staff(app) -> StaffMember:
    """A staff member without a password: hashing one is slow, and API calls never use it."""
    staff = StaffMember(username=f"api-staff-{next(_numbers)}")
    db.session.add(staff)
    db.session.commit()
    return staff


@pytest.fixture
def credential(make, api_staff):
    """An API credential and its secret."""
    return make.api_credential(api_staff)


@pytest.fixture
def ticket_fields(department) -> dict[str, str]:
    """A valid OpenTicket request from a guest, without credentials."""
    return {
        "action": "OpenTicket",
        "deptid": str(department.id),
        "subject": "Printer on fire",
        "message": "It is on fire.",
        "name": "Gina Guest",
        "email": "gina@example.com",
    }


@pytest.fixture
def call_api(client, credential):
    """POST fields to api.php with the credential's identifier and secret unless told otherwise."""
    identity, secret = credential

    def call(fields: dict, *, authenticate: bool = True, **request_options):
        data = {"identifier": identity.identifier, "secret": secret} if authenticate else {}
        return client.post(API_URL, data={**data, **fields}, **request_options)

    return call
