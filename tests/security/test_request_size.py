"""A body over MAX_CONTENT_LENGTH: a friendly page in the browser doors, a WHMCS error by API."""

import io

import pytest

from tests.security.conftest import API_URL, ticket_count

LIMIT = 64 * 1024


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_CONTENT_LENGTH": LIMIT}


def too_large_file() -> tuple[io.BytesIO, str]:
    return io.BytesIO(b"x" * (LIMIT + 1)), "big.txt"


def test_the_client_form_shows_a_friendly_page(client, department):
    response = client.post(
        "/submitticket",
        data={
            "deptid": department.id,
            "subject": "S",
            "message": "M",
            "attachments": too_large_file(),
        },
    )

    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "What you sent is larger than this portal accepts" in response.text
    assert ticket_count() == 0


def test_the_staff_form_shows_a_friendly_page(staff_client, department):
    response = staff_client.post(
        "/staff/tickets/new",
        data={"deptid": department.id, "action": "open", "attachments": too_large_file()},
    )

    assert response.status_code == 413
    assert "What you sent is larger than this portal accepts" in response.text


def test_the_api_answers_in_the_response_type_of_the_query_string(client, department):
    response = client.post(
        f"{API_URL}?responsetype=json",
        data={"action": "OpenTicket", "attachments[]": too_large_file()},
    )

    assert response.status_code == 413
    assert response.json == {
        "result": "error",
        "message": "Request too large: the body is over the 64 KB this API accepts. "
        "Send fewer or smaller attachments.",
    }
    assert ticket_count() == 0


def test_the_api_answers_whmcs_text_when_the_type_is_only_in_the_unread_body(client, department):
    response = client.post(
        API_URL,
        data={"action": "OpenTicket", "responsetype": "json", "attachments[]": too_large_file()},
    )

    assert response.status_code == 413
    assert response.mimetype == "text/plain"
    assert response.text.startswith("result=error;message=Request too large:")


def test_a_body_within_the_limit_is_read(call_api, department):
    response = call_api({"deptid": department.id, "subject": "S", "message": "M"})

    assert response.status_code == 200
    assert response.json["message"] == "Name and email address are required if not a client"
