"""Every error the spec lists reaches the caller over HTTP, word for word, in each response type."""

from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

import pytest

from portal.extensions import db
from portal.models import Attachment, ClientAccount, Department, Ticket
from portal.tickets import OpenTicketRequest, TicketSettings, open_ticket
from tests.api.api_calls import RESPONSE_TYPES, read_answer
from tests.conftest import stored_files

MISSING_ID = "999999"
# A mask with no codes has a single number, so one earlier ticket exhausts it.
FIXED_MASK = "API-000001"


@dataclass
class World:
    department: Department
    client: ClientAccount
    settings: TicketSettings


def as_client(world: World, **fields) -> dict[str, str]:
    return {
        "deptid": str(world.department.id),
        "subject": "Subject",
        "message": "Message",
        "clientid": str(world.client.id),
        **fields,
    }


def as_guest(world: World, **fields) -> dict[str, str]:
    return {
        "deptid": str(world.department.id),
        "subject": "Subject",
        "message": "Message",
        "name": "Gina Guest",
        "email": "gina@example.com",
        **fields,
    }


def number_taken(world: World) -> dict[str, str]:
    open_ticket(db.session, OpenTicketRequest(**as_guest(world)), world.settings)
    db.session.commit()
    return as_guest(world)


SPEC_ERRORS: dict[str, Callable[[World], dict[str, str]]] = {
    "Client ID Not Found": lambda w: as_client(w, clientid=MISSING_ID),
    "The system cannot find the provided user ID.": lambda w: as_client(w, userid=MISSING_ID),
    "Contact ID Not Found": lambda w: as_client(w, contactid=MISSING_ID),
    "Name and email address are required if not a client": lambda w: as_guest(w, name=""),
    "Department ID not found": lambda w: as_guest(w, deptid=MISSING_ID),
    "Subject is required": lambda w: as_guest(w, subject="  "),
    "Message is required": lambda w: as_guest(w, message=""),
    "Service ID Not Found": lambda w: as_client(w, serviceid=MISSING_ID),
    "Domain ID Not Found": lambda w: as_client(w, domainid=MISSING_ID),
    "Email Address Invalid": lambda w: as_guest(w, email="gina at example"),
    "Invalid Date Format": lambda w: as_guest(w, created="last Tuesday"),
    "Ticket creation date cannot be in the future": lambda w: as_guest(
        w, created="2999-01-01 00:00:00"
    ),
    "Unable to generate ticket number": number_taken,
}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TICKET_MASK": FIXED_MASK}


@pytest.fixture
def world(make, department, settings) -> World:
    return World(department, make.client_account(), settings)


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
@pytest.mark.parametrize("message", list(SPEC_ERRORS))
def test_each_spec_error_answers_http_200_with_its_exact_message(
    call_api, world, message, responsetype
):
    fields = SPEC_ERRORS[message](world)
    tickets_before = db.session.query(Ticket).count()

    response = call_api({"action": "OpenTicket", "responsetype": responsetype, **fields})

    assert response.status_code == 200
    assert read_answer(response, responsetype) == {"result": "error", "message": message}
    assert db.session.query(Ticket).count() == tickets_before


def test_the_text_response_is_exactly_whmcs_name_value_form(call_api, world):
    response = call_api({"action": "OpenTicket", **as_guest(world, subject="")})

    assert response.get_data(as_text=True) == "result=error;message=Subject is required"


def test_a_refused_request_leaves_no_attachment_behind(call_api, world, attachments_dir):
    # Numbering comes after the files are written, so this refusal has files to clean up.
    fields = number_taken(world)

    response = call_api(
        {
            "action": "OpenTicket",
            "responsetype": "json",
            **fields,
            "attachments[]": [(BytesIO(b"written, then removed"), "notes.txt")],
        }
    )

    assert read_answer(response, "json")["message"] == "Unable to generate ticket number"
    assert db.session.query(Attachment).count() == 0
    assert stored_files(attachments_dir) == []
