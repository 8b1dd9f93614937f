"""Fixtures for the security tests: the three doors (client form, staff form, API) and a browser."""

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Attachment, StaffMember, Ticket
from tests.conftest import stored_files
from tests.factories import PASSWORD

API_URL = "/includes/api.php"


@pytest.fixture
def app_config(app_config):
    # The guest form's spam checks have tests of their own; here a form is sent at once.
    return {**app_config, "GUEST_FORM_MIN_SECONDS": 0, "RATELIMIT_ENABLED": False}


@pytest.fixture
def department(make):
    return make.department(name="Support")


@pytest.fixture
def staff_member(make) -> StaffMember:
    return make.staff()


@pytest.fixture
def staff_client(app, staff_member):
    """A second test client, signed in to the staff area."""
    browser = app.test_client()
    login_page = browser.get("/staff/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    response = browser.post(
        "/staff/login",
        data={"username": staff_member.username, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    return browser


@pytest.fixture
def credential(make, staff_member):
    return make.api_credential(staff_member)


@pytest.fixture
def call_api(client, credential):
    """POST fields to api.php as JSON-answer calls with a valid credential."""
    identity, secret = credential

    def call(fields: dict, **request_options):
        data = {
            "identifier": identity.identifier,
            "secret": secret,
            "action": "OpenTicket",
            "responsetype": "json",
            **fields,
        }
        return client.post(API_URL, data=data, **request_options)

    return call


def answer(response) -> dict:
    """A JSON answer of api.php, checked to be WHMCS-shaped."""
    assert response.mimetype == "application/json", response.data[:200]
    fields = json.loads(response.data)
    assert fields["result"] in ("success", "error")
    return fields


def ticket_count() -> int:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(func.count(Ticket.id)))


def attachment_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Attachment.id)))


def files_under(directory: str | Path) -> list[Path]:
    return stored_files(Path(directory))
