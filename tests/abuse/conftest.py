"""Fixtures for the abuse tests: forms as a browser sends them, signed-in staff, the API."""

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import IdempotencyKey, Ticket
from tests.api.api_calls import API_URL

# A documentation address (RFC 5737) standing in for a visitor other than the test client.
OTHER_ADDRESS = "198.51.100.7"


def ticket_count() -> int:
    db.session.rollback()  # MariaDB's REPEATABLE READ would show the snapshot from before
    return db.session.scalar(select(func.count()).select_from(Ticket))


def key_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(IdempotencyKey))


def hidden_value(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


@pytest.fixture
def department(make):
    return make.department(name="Support")


@pytest.fixture
def guest_form(client, department):
    """Fields of the guest form as shown to this client (its draft and stamp), plus overrides."""

    def fill(**fields) -> dict:
        page = client.get(f"/submitticket?deptid={department.id}").text
        form = {
            "deptid": str(department.id),
            "draft": hidden_value(page, "draft"),
            "shown": hidden_value(page, "shown"),
            "name": "Gwen Guest",
            "email": "gwen@example.com",
            "subject": "Cannot log in",
            "message": "Nothing happens when I press the button.",
            "action": "submit",
        }
        return {**form, **fields}

    return fill


@pytest.fixture
def credential(make):
    """An API credential and its secret."""
    return make.api_credential()


@pytest.fixture
def ticket_fields(department) -> dict[str, str]:
    return {
        "action": "OpenTicket",
        "deptid": str(department.id),
        "subject": "Printer on fire",
        "message": "It is on fire.",
        "name": "Gina Guest",
        "email": "gina@example.com",
        "responsetype": "json",
    }


@pytest.fixture
def call_api(client, credential):
    """POST fields to api.php with a credential (the fixture's unless given)."""

    def call(fields: dict, *, key: str | None = None, as_credential=None, **request_options):
        identity, secret = as_credential or credential
        headers = {"Idempotency-Key": key} if key is not None else {}
        data = {"identifier": identity.identifier, "secret": secret, **fields}
        return client.post(API_URL, data=data, headers=headers, **request_options)

    return call
