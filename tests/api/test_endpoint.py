"""The endpoint itself: POST (and GET), the action named loosely as WHMCS allows, no CSRF token."""

import pytest

from portal.extensions import db
from portal.models import Ticket
from tests.api.api_calls import API_URL, RESPONSE_TYPES, read_answer


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"])
def test_any_method_but_get_and_post_answers_405_in_whmcs_envelope(client, method, responsetype):
    response = client.open(f"{API_URL}?responsetype={responsetype}", method=method)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert read_answer(response, responsetype, action="") == {
        "result": "error",
        "message": "Method Not Allowed: send the request with POST (or GET)",
    }


def test_other_pages_keep_their_html_405(client):
    response = client.open("/healthz", method="DELETE")

    assert response.status_code == 405
    assert response.mimetype == "text/html"


@pytest.mark.parametrize(
    "spelling",
    ["OpenTicket", "openticket", "OPENTICKET", "open_ticket", "Open-Ticket", " open ticket "],
)
def test_action_is_matched_ignoring_case_and_everything_but_letters_and_digits(
    call_api, ticket_fields, spelling
):
    response = call_api({**ticket_fields, "action": spelling, "responsetype": "json"})

    assert response.status_code == 200
    assert read_answer(response, "json")["result"] == "success"


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
@pytest.mark.parametrize("action", [None, "", "-_- !"])
def test_a_missing_action_answers_400_empty_action_request(call_api, action, responsetype):
    fields = {"responsetype": responsetype} | ({} if action is None else {"action": action})

    response = call_api(fields)

    assert response.status_code == 400
    assert read_answer(response, responsetype, action="") == {
        "result": "error",
        "message": "Empty action request",
    }


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
def test_an_unknown_action_answers_400_command_not_found(call_api, responsetype):
    response = call_api({"action": "GetClients", "responsetype": responsetype})

    assert response.status_code == 400
    assert read_answer(response, responsetype, action="getclients") == {
        "result": "error",
        "message": "Command Not Found",
    }


def test_unauthenticated_callers_cannot_probe_which_actions_exist(call_api):
    response = call_api({"action": "GetClients", "responsetype": "json"}, authenticate=False)

    assert response.status_code == 403
    assert read_answer(response, "json")["message"] == "Authentication Failed"


class TestWithCsrfProtectionOn:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_api_calls_need_no_csrf_token(self, call_api, ticket_fields):
        response = call_api({**ticket_fields, "responsetype": "json"})

        assert read_answer(response, "json")["result"] == "success"

    def test_other_posts_still_need_one(self, app, client):
        # Shows the setting is live, so the test above proves the exemption, not a test default.
        app.add_url_rule("/csrf-probe", "csrf_probe", lambda: "accepted", methods=["POST"])

        assert client.post("/csrf-probe").status_code == 400


@pytest.mark.parametrize(
    ("responsetype", "expected"),
    [
        ("json", "json"),
        ("JSON", "json"),
        ("xml", "xml"),
        (" Xml ", "xml"),
        ("", ""),
        ("text", ""),
        ("yaml", ""),
    ],
)
def test_the_response_type_falls_back_to_whmcs_name_value_text(
    call_api, ticket_fields, responsetype, expected
):
    response = call_api({**ticket_fields, "responsetype": responsetype})

    answer = read_answer(response, expected)
    assert answer["result"] == "success"
    assert db.session.get(Ticket, int(answer["id"])).tid == answer["tid"]
