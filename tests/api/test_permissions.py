"""Permissions per credential (WHMCS's API roles) and the MD5 of a credential's secret."""

import hashlib

import pytest

from portal.api.credentials import digest
from portal.api.permissions import TICKET_ACTIONS, parse_actions
from portal.extensions import db
from portal.models import ApiCredential
from tests.api.api_calls import API_URL, RESPONSE_TYPES, read_answer


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - what such clients send


@pytest.fixture
def limited(make, api_staff):
    return make.api_credential(api_staff, actions=["getticket", "gettickets"])


def call_as(client, credential, fields: dict):
    identity, secret = credential
    return client.post(
        API_URL, data={"identifier": identity.identifier, "secret": secret, **fields}
    )


def test_a_permitted_action_runs(client, limited, ticket):
    response = call_as(
        client, limited, {"action": "GetTicket", "ticketid": ticket.id, "responsetype": "json"}
    )

    assert response.json["tid"] == ticket.tid


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
@pytest.mark.parametrize(
    ("action", "lowered"),
    [
        ("OpenTicket", "openticket"),
        ("DeleteTicket", "deleteticket"),
        ("Add_Ticket_Reply", "addticketreply"),
    ],
)
def test_any_other_answers_403_invalid_permissions(
    client, limited, ticket, action, lowered, responsetype
):
    response = call_as(
        client, limited, {"action": action, "ticketid": ticket.id, "responsetype": responsetype}
    )

    assert response.status_code == 403
    assert read_answer(response, responsetype, action=lowered) == {
        "result": "error",
        "message": f'Invalid Permissions: API action "{lowered}" is not allowed',
    }
    db.session.rollback()
    assert db.session.get(type(ticket), ticket.id) is not None


def test_an_unknown_action_is_still_command_not_found(client, limited):
    response = call_as(client, limited, {"action": "MergeTicket", "responsetype": "json"})

    assert (response.status_code, response.json["message"]) == (400, "Command Not Found")


def test_by_default_a_credential_may_call_every_ticket_action(credential):
    assert credential[0].allowed_actions is None


def test_parse_actions():
    assert parse_actions("GetTicket, openticket getticket") == ["openticket", "getticket"]
    assert parse_actions("all") == list(TICKET_ACTIONS)


class TestTheCommand:
    @pytest.fixture
    def cli(self, app):
        return app.test_cli_runner()

    def test_actions_are_stored_lower_case_in_the_documented_order(self, cli, make):
        make.staff(username="carol")

        result = cli.invoke(
            args=["create-api-credential", "carol", "--actions", "GetTicket,OpenTicket"]
        )

        assert result.exit_code == 0, result.output
        identifier = result.output.split("identifier: ")[1].split()[0]
        credential = db.session.query(ApiCredential).filter_by(identifier=identifier).one()
        assert credential.allowed_actions == "openticket,getticket"

    @pytest.mark.parametrize("actions", ["getticket,mergeticket", ",", ""])
    def test_unknown_or_no_actions_are_refused(self, cli, make, actions):
        make.staff(username="carol")

        result = cli.invoke(args=["create-api-credential", "carol", "--actions", actions])

        assert result.exit_code != 0
        assert db.session.query(ApiCredential).count() == 0

    def test_an_unknown_action_is_named(self, cli, make):
        make.staff(username="carol")

        result = cli.invoke(args=["create-api-credential", "carol", "--actions", "mergeticket"])

        assert "Not an API action: mergeticket" in result.output
        assert "getticketattachment" in result.output


class TestMd5OfTheSecret:
    @pytest.mark.parametrize("spelling", ["identifier", "username"])
    @pytest.mark.parametrize("case", [str.lower, str.upper])
    def test_the_md5_of_the_secret_authenticates(self, client, credential, spelling, case):
        identity, secret = credential
        names = ("identifier", "secret") if spelling == "identifier" else ("username", "password")
        fields = {names[0]: identity.identifier, names[1]: case(md5(secret))}

        response = client.post(
            API_URL, data={**fields, "action": "GetTickets", "responsetype": "json"}
        )

        assert response.json["result"] == "success"

    def test_the_md5_of_something_else_does_not(self, client, credential):
        identity, secret = credential

        response = client.post(
            API_URL,
            data={
                "identifier": identity.identifier,
                "secret": md5(secret + "x"),
                "action": "GetTickets",
                "responsetype": "json",
            },
        )

        assert response.json["message"] == "Authentication Failed"

    def test_a_credential_made_before_keeps_only_its_plain_secret(self, client, api_staff):
        db.session.add(
            ApiCredential(identifier="old-one", secret_sha256=digest("s3cret"), staff=api_staff)
        )
        db.session.commit()

        def with_secret(secret):
            data = {
                "identifier": "old-one",
                "secret": secret,
                "action": "GetTickets",
                "responsetype": "json",
            }
            return client.post(API_URL, data=data).json["result"]

        assert (with_secret("s3cret"), with_secret(md5("s3cret"))) == ("success", "error")

    class TestWhenTurnedOff:
        @pytest.fixture
        def app_config(self, app_config):
            return {**app_config, "API_ACCEPT_MD5_SECRET": False}

        def test_only_the_secret_itself_authenticates(self, client, credential):
            identity, secret = credential

            def with_secret(value):
                data = {
                    "identifier": identity.identifier,
                    "secret": value,
                    "action": "GetTickets",
                    "responsetype": "json",
                }
                return client.post(API_URL, data=data).json["result"]

            assert (with_secret(secret), with_secret(md5(secret))) == ("success", "error")
