"""Fixtures for calling api.php as an integration would."""

import itertools

import pytest

from portal.extensions import db
from portal.models import StaffMember, Ticket
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


@pytest.fixture
def api(call_api):
    """Call an action and return its JSON answer (after checking it is JSON)."""

    def call(fields: dict, **request_options) -> dict:
        response = call_api({"responsetype": "json", **fields}, **request_options)
        assert response.mimetype == "application/json", response.data[:300]
        assert response.status_code < 500, response.data[:300]
        return response.get_json()

    return call


@pytest.fixture
def open_ticket(app, settings, department):
    """Open a ticket through the core (a guest's in `department` unless told otherwise)."""
    from portal.tickets import OpenTicketRequest
    from portal.tickets import open_ticket as core_open_ticket

    def make(**fields) -> Ticket:
        request = OpenTicketRequest(
            **{
                "deptid": department.id,
                "subject": "Printer on fire",
                "message": "It is on fire.",
                "name": "Gina Guest",
                "email": "gina@example.com",
                "noemail": True,
                **fields,
            }
        )
        ticket = core_open_ticket(db.session(), request, settings)
        db.session.commit()
        return ticket

    return make


@pytest.fixture
def ticket(open_ticket):
    return open_ticket()
