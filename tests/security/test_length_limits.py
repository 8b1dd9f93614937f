"""Every field one character over its limit, through each door: a clear error, nothing stored.

A file name over its limit is the exception: it is shortened, keeping its extension.
"""

import base64
import io
import json

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Attachment
from portal.tickets.attachments import MAX_NAME_BYTES
from portal.tickets.opening import (
    MAX_CUSTOM_FIELD_VALUE,
    MAX_EMAIL,
    MAX_MESSAGE,
    MAX_NAME,
    MAX_SUBJECT,
)
from tests.security.conftest import answer, attachment_count, files_under, ticket_count

FIELD_NAME = "Order number"


def over_limit_email() -> str:
    domain = "@example.com"
    return "a" * (MAX_EMAIL + 1 - len(domain)) + domain


def over_limit_file_name() -> str:
    return "f" * (MAX_NAME_BYTES + 1 - len(".txt")) + ".txt"


# field -> (value one over the limit, the message a person sees in each door)
OVER_LIMIT = {
    "subject": ("s" * (MAX_SUBJECT + 1), "Subject is too long (at most 255 characters)"),
    "name": ("n" * (MAX_NAME + 1), "Name is too long (at most 200 characters)"),
    "email": (over_limit_email(), None),  # the spec's wording, which differs by door
    "message": ("m" * (MAX_MESSAGE + 1), "Message is too long (at most 100,000 characters)"),
    "customfield": (
        "c" * (MAX_CUSTOM_FIELD_VALUE + 1),
        f"{FIELD_NAME} is too long (at most 10,000 characters)",
    ),
}
EMAIL_MESSAGES = {
    "client": "The email address you entered was not valid",
    "staff": "Email Address Invalid",
    "api": "Email Address Invalid",
}


def test_the_values_are_exactly_one_over():
    assert len(OVER_LIMIT["email"][0]) == MAX_EMAIL + 1
    assert len(over_limit_file_name().encode()) == MAX_NAME_BYTES + 1


@pytest.fixture
def custom_field(make, department):
    return make.custom_field(department, name=FIELD_NAME)


def valid_fields(department, custom_field) -> dict:
    return {
        "deptid": str(department.id),
        "subject": "Printer on fire",
        "message": "It is on fire.",
        "name": "Gina Guest",
        "email": "gina@example.com",
        f"customfield[{custom_field.id}]": "A-1",
    }


def with_field_over_limit(department, custom_field, field: str) -> tuple[dict, list]:
    """Valid form fields but for `field`, which is over its limit, and the files to send."""
    fields = valid_fields(department, custom_field)
    value, _ = OVER_LIMIT[field]
    files = [(io.BytesIO(b"notes"), "notes.txt")]
    if field == "customfield":
        fields = {**fields, f"customfield[{custom_field.id}]": value}
    else:
        fields = {**fields, field: value}
    return fields, files


def expected_message(field: str, door: str) -> str:
    message = OVER_LIMIT[field][1]
    return EMAIL_MESSAGES[door] if message is None else message


def assert_nothing_stored(app) -> None:
    assert ticket_count() == 0
    assert attachment_count() == 0
    assert files_under(app.config["ATTACHMENTS_DIR"]) == []


@pytest.mark.parametrize("field", list(OVER_LIMIT))
def test_the_client_form_refuses_a_value_over_the_limit(
    app, client, department, custom_field, field
):
    fields, files = with_field_over_limit(department, custom_field, field)

    response = client.post("/submitticket", data={**fields, "attachments": files})

    assert response.status_code == 422
    assert expected_message(field, "client") in response.text
    assert_nothing_stored(app)


@pytest.mark.parametrize("field", list(OVER_LIMIT))
def test_the_staff_form_refuses_a_value_over_the_limit(
    app, staff_client, department, custom_field, field
):
    fields, files = with_field_over_limit(department, custom_field, field)

    response = staff_client.post(
        "/staff/tickets/new", data={**fields, "action": "open", "attachments": files}
    )

    assert response.status_code == 422
    assert expected_message(field, "staff") in response.text
    assert_nothing_stored(app)


@pytest.mark.parametrize("field", list(OVER_LIMIT))
def test_the_api_refuses_a_value_over_the_limit(app, call_api, department, custom_field, field):
    fields, files = with_field_over_limit(department, custom_field, field)
    value_by_id = {str(custom_field.id): fields.pop(f"customfield[{custom_field.id}]")}
    fields["customfields"] = base64_json(value_by_id)

    result = answer(call_api({**fields, "attachments[]": files}))

    assert result["result"] == "error"
    assert expected_message(field, "api") in result["message"]
    assert_nothing_stored(app)


@pytest.mark.parametrize("door", ["client", "staff", "api"])
def test_a_file_name_over_the_limit_is_shortened_keeping_its_extension(
    request, department, custom_field, door
):
    fields = valid_fields(department, custom_field)
    files = [(io.BytesIO(b"notes"), over_limit_file_name())]

    if door == "api":
        fields.pop(f"customfield[{custom_field.id}]")
        result = answer(request.getfixturevalue("call_api")({**fields, "attachments[]": files}))
        assert result["result"] == "success"
    elif door == "staff":
        data = {**fields, "action": "open", "attachments": files}
        staff_client = request.getfixturevalue("staff_client")
        assert staff_client.post("/staff/tickets/new", data=data).status_code == 303
    else:
        data = {**fields, "attachments": files}
        assert request.getfixturevalue("client").post("/submitticket", data=data).status_code == 303

    [attachment] = db.session.scalars(select(Attachment)).all()
    assert attachment.original_name == "f" * (MAX_NAME_BYTES - len(".txt")) + ".txt"


def base64_json(value) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def test_each_limit_allows_a_value_exactly_at_it(app, call_api, department, custom_field):
    fields = valid_fields(department, custom_field)
    fields.pop(f"customfield[{custom_field.id}]")
    at_limit = {
        "subject": "s" * MAX_SUBJECT,
        "name": "n" * MAX_NAME,
        "email": over_limit_email()[1:],
        "message": "m" * MAX_MESSAGE,
        "customfields": base64_json({str(custom_field.id): "c" * MAX_CUSTOM_FIELD_VALUE}),
    }
    files = [(io.BytesIO(b"notes"), over_limit_file_name()[1:])]

    result = answer(call_api({**fields, **at_limit, "attachments[]": files}))

    assert result["result"] == "success", result
    assert ticket_count() == attachment_count() == 1


def test_the_forms_tell_the_browser_the_limits(client, staff_client, department, custom_field):
    client_form = client.get(f"/submitticket?deptid={department.id}").text
    staff_form = staff_client.get("/staff/tickets/new").text
    fields = staff_client.get(f"/staff/tickets/new/fields?deptid={department.id}").text

    for form in (client_form, staff_form):
        assert 'name="subject" value="" maxlength="255"' in form
        assert 'name="name" value="" maxlength="200"' in form
        assert 'name="email" type="email" value="" maxlength="254"' in form
    assert f'name="customfield[{custom_field.id}]" value="" maxlength="10000"' in fields
    assert 'maxlength="254"' in client.get("/login").text
    assert 'maxlength="64"' in client.get("/staff/login").text
