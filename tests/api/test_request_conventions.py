"""Parameters from the query string and the body as PHP's $_REQUEST has them, GET, and refusals
before the action answered in WHMCS's envelope in the requested response type."""

from io import BytesIO
from urllib.parse import urlencode

import pytest

from portal.extensions import db
from portal.models import Ticket, TicketReply
from tests.api.api_calls import API_URL, RESPONSE_TYPES, read_answer


@pytest.fixture
def credentials(credential) -> dict:
    identity, secret = credential
    return {"identifier": identity.identifier, "secret": secret}


def test_action_in_the_query_string_and_the_rest_in_the_body(client, credentials, ticket_fields):
    action = ticket_fields.pop("action")
    response = client.post(
        f"{API_URL}?action={action}", data={**credentials, **ticket_fields, "responsetype": "json"}
    )

    assert read_answer(response, "json")["result"] == "success"


@pytest.mark.parametrize("responsetype", ["json", "xml"])
def test_responsetype_in_the_query_string_is_used_as_plain_php_sends_it(
    client, credentials, ticket_fields, responsetype
):
    response = client.post(
        f"{API_URL}?responsetype={responsetype}", data={**credentials, **ticket_fields}
    )

    assert read_answer(response, responsetype)["result"] == "success"
    assert db.session.query(Ticket).count() == 1


def test_the_body_wins_when_both_name_a_parameter(client, credentials, ticket_fields):
    query = urlencode({"subject": "From the URL", "responsetype": "xml"})
    response = client.post(
        f"{API_URL}?{query}",
        data={**credentials, **ticket_fields, "subject": "From the body", "responsetype": "json"},
    )

    answer = read_answer(response, "json")
    assert db.session.get(Ticket, int(answer["id"])).subject == "From the body"


def test_credentials_may_come_in_the_query_string(client, credentials, ticket_fields):
    response = client.post(
        f"{API_URL}?{urlencode(credentials)}", data={**ticket_fields, "responsetype": "json"}
    )

    assert read_answer(response, "json")["result"] == "success"


def test_a_multipart_body_with_the_action_in_the_query_string(client, credentials, ticket_fields):
    ticket_fields.pop("action")
    response = client.post(
        f"{API_URL}?action=OpenTicket&responsetype=json",
        data={**credentials, **ticket_fields, "attachments[]": (BytesIO(b"x"), "a.txt")},
        content_type="multipart/form-data",
    )

    answer = read_answer(response, "json")
    assert [a.original_name for a in db.session.get(Ticket, int(answer["id"])).attachments] == [
        "a.txt"
    ]


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
def test_get_runs_an_action_as_post_does(client, credentials, ticket, responsetype):
    query = urlencode(
        {**credentials, "action": "GetTicket", "ticketid": ticket.id, "responsetype": responsetype}
    )

    response = client.get(f"{API_URL}?{query}")

    assert response.status_code == 200
    if responsetype == "json":
        assert response.json["tid"] == ticket.tid
    else:
        assert ticket.tid in response.get_data(as_text=True)


def test_get_may_write_as_in_whmcs(client, credentials, ticket):
    query = urlencode(
        {**credentials, "action": "AddTicketNote", "ticketid": ticket.id, "message": "via GET"}
    )

    assert client.get(f"{API_URL}?{query}").text == "result=success"


def test_head_answers_as_get_without_a_body(client, credentials):
    response = client.head(f"{API_URL}?{urlencode({**credentials, 'action': 'GetTickets'})}")

    assert response.status_code == 200
    assert response.data == b""


def test_a_repeated_query_parameter_counts_with_its_last_value(client, credentials, ticket):
    query = urlencode(
        [*credentials.items(), ("action", "GetTicket"), ("ticketid", "0"), ("ticketid", ticket.id)]
    )

    assert client.get(f"{API_URL}?{query}&responsetype=json").json["tid"] == ticket.tid


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
def test_errors_of_every_action_come_in_the_requested_type(call_api, responsetype):
    response = call_api(
        {"action": "AddTicketReply", "ticketid": "99999", "responsetype": responsetype}
    )

    assert read_answer(response, responsetype, action="addticketreply") == {
        "result": "error",
        "message": "Ticket ID not found",
    }


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
def test_a_request_werkzeug_refuses_is_answered_in_the_envelope(
    call_api, monkeypatch, responsetype
):
    from werkzeug.exceptions import BadRequest

    from portal.api import views

    def unreadable(call):
        raise BadRequest(
            "The browser (or proxy) sent a request that this server could not understand."
        )

    monkeypatch.setitem(views.ACTIONS, "gettickets", unreadable)

    response = call_api({"action": "GetTickets", "responsetype": responsetype})

    assert response.status_code == 400
    answer = read_answer(response, responsetype, action="gettickets")
    assert answer["result"] == "error"
    assert answer["message"].startswith("Bad Request")


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
def test_an_unexpected_failure_is_answered_in_the_envelope(
    app, call_api, ticket, monkeypatch, responsetype
):
    from portal.api import views

    def broken(call):
        raise RuntimeError("boom")

    monkeypatch.setitem(views.ACTIONS, "getticket", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    response = call_api(
        {"action": "GetTicket", "ticketid": ticket.id, "responsetype": responsetype}
    )

    assert response.status_code == 500
    assert read_answer(response, responsetype, action="getticket") == {
        "result": "error",
        "message": "Internal error: nothing was stored. Please try again later.",
    }


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
def test_the_rate_limit_answers_in_the_envelope_of_a_query_string_type(
    client, ticket_fields, responsetype
):
    for _ in range(6):
        response = client.post(
            f"{API_URL}?responsetype={responsetype}",
            data={**ticket_fields, "identifier": "nobody", "secret": "wrong"},
        )

    assert response.status_code == 429
    if responsetype:
        answer = read_answer(response, responsetype)
        assert answer["result"] == "error"
        assert answer["message"].startswith("Too many refused requests")
    else:
        # The message has a `;`, which WHMCS's text form does not escape.
        assert response.text.startswith("result=error;message=Too many refused requests;")


def test_a_reply_through_the_query_string_only(client, credentials, ticket, make):
    make.staff(username="demo")
    query = urlencode(
        {
            **credentials,
            "action": "AddTicketReply",
            "ticketid": ticket.id,
            "message": "from the URL",
            "adminusername": "demo",
            "responsetype": "json",
        }
    )

    assert client.post(f"{API_URL}?{query}").json == {"result": "success"}
    assert db.session.query(TicketReply).one().message == "from the URL"
