"""Who the caller is: an API credential in either spelling, or (only if allowed) legacy login."""

import hashlib

import pytest

from portal.extensions import db
from portal.models import Ticket
from tests.api.api_calls import API_URL, RESPONSE_TYPES, read_answer
from tests.factories import PASSWORD


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - WHMCS's legacy login format


def opened(response) -> Ticket:
    answer = read_answer(response, "json")
    assert answer["result"] == "success", answer
    return db.session.get(Ticket, int(answer["id"]))


@pytest.fixture
def ticket_request(ticket_fields):
    return {**ticket_fields, "responsetype": "json"}


def test_identifier_and_secret_authenticate(client, credential, ticket_request):
    identity, secret = credential

    response = client.post(
        API_URL, data={**ticket_request, "identifier": identity.identifier, "secret": secret}
    )

    assert opened(response).subject == ticket_request["subject"]


def test_username_and_password_carry_the_identifier_and_secret_as_in_the_spec_example(
    client, credential, ticket_request
):
    identity, secret = credential

    response = client.post(
        API_URL, data={**ticket_request, "username": identity.identifier, "password": secret}
    )

    assert opened(response).subject == ticket_request["subject"]


def test_admin_makes_the_credentials_staff_member_the_opener(
    client, api_staff, credential, ticket_request
):
    identity, secret = credential

    response = client.post(
        API_URL,
        data={
            **ticket_request,
            "identifier": identity.identifier,
            "secret": secret,
            "admin": "true",
        },
    )

    assert opened(response).opened_by == api_staff


def test_without_admin_nobody_on_the_staff_opened_the_ticket(call_api, ticket_request):
    assert opened(call_api(ticket_request)).opened_by is None


# Each case turns a valid identifier, its secret and another credential's secret into fields.
FAILING_CREDENTIALS = {
    "none at all": lambda i, s, other: {},
    "identifier without secret": lambda i, s, other: {"identifier": i},
    "wrong secret": lambda i, s, other: {"identifier": i, "secret": s + "x"},
    "another credential's secret": lambda i, s, other: {"identifier": i, "secret": other},
    "unknown identifier": lambda i, s, other: {"identifier": "nobody", "secret": s},
    "identifier in another case": lambda i, s, other: {"identifier": i.swapcase(), "secret": s},
    "identifier with a trailing space": lambda i, s, other: {"identifier": i + " ", "secret": s},
    "over-long identifier": lambda i, s, other: {"identifier": i * 10, "secret": s},
    "NUL in identifier": lambda i, s, other: {"identifier": i + "\x00", "secret": s},
    "wrong password": lambda i, s, other: {"username": i, "password": s[:-1]},
    "secret under the other spelling": lambda i, s, other: {"identifier": i, "password": s},
}


@pytest.mark.parametrize("case", list(FAILING_CREDENTIALS))
def test_wrong_or_missing_credentials_answer_403_authentication_failed(
    make, client, api_staff, credential, ticket_request, case
):
    identity, secret = credential
    _, other_secret = make.api_credential(api_staff)
    fields = FAILING_CREDENTIALS[case](identity.identifier, secret, other_secret)

    response = client.post(API_URL, data={**ticket_request, **fields})

    assert response.status_code == 403
    assert read_answer(response, "json") == {"result": "error", "message": "Authentication Failed"}
    assert db.session.query(Ticket).count() == 0


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
def test_authentication_failed_comes_in_the_requested_response_type(
    client, ticket_fields, responsetype
):
    response = client.post(
        API_URL,
        data={
            **ticket_fields,
            "responsetype": responsetype,
            "identifier": "nobody",
            "secret": "nothing",
        },
    )

    assert response.status_code == 403
    assert read_answer(response, responsetype) == {
        "result": "error",
        "message": "Authentication Failed",
    }


def test_a_deactivated_staff_members_credentials_stop_working_at_once(
    client, api_staff, credential, ticket_request
):
    identity, secret = credential
    fields = {**ticket_request, "identifier": identity.identifier, "secret": secret}
    assert client.post(API_URL, data=fields).status_code == 200

    api_staff.active = False
    db.session.commit()
    response = client.post(API_URL, data=fields)

    assert response.status_code == 403
    assert read_answer(response, "json")["message"] == "Authentication Failed"


def test_legacy_password_login_is_refused_by_default(make, client, ticket_request):
    staff = make.staff()

    response = client.post(
        API_URL, data={**ticket_request, "username": staff.username, "password": md5(PASSWORD)}
    )

    assert response.status_code == 403
    assert read_answer(response, "json")["message"] == "Authentication Failed"


class TestLegacyPasswordLoginWhenAllowed:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "API_ALLOW_LEGACY_PASSWORD_AUTH": True}

    def test_the_md5_of_the_staff_password_authenticates(self, make, client, ticket_request):
        staff = make.staff()

        response = client.post(
            API_URL,
            data={
                **ticket_request,
                "username": staff.username,
                "password": md5(PASSWORD),
                "admin": "1",
            },
        )

        assert opened(response).opened_by == staff

    def test_api_credentials_still_work_under_the_same_spelling(
        self, client, credential, ticket_request
    ):
        identity, secret = credential

        response = client.post(
            API_URL, data={**ticket_request, "username": identity.identifier, "password": secret}
        )

        assert opened(response).opened_by is None

    @pytest.mark.parametrize(
        "password",
        [
            PASSWORD,  # WHMCS's legacy login sends the digest, never the password itself
            md5(PASSWORD + "x"),
            "",
        ],
    )
    def test_anything_but_the_md5_of_the_password_fails(
        self, make, client, ticket_request, password
    ):
        staff = make.staff()

        response = client.post(
            API_URL, data={**ticket_request, "username": staff.username, "password": password}
        )

        assert response.status_code == 403
        assert read_answer(response, "json")["message"] == "Authentication Failed"

    @pytest.mark.parametrize("username", ["nobody", "{staff}x", "{staff_upper}"])
    def test_an_unknown_username_fails(self, make, client, ticket_request, username):
        staff = make.staff()
        username = username.format(staff=staff.username, staff_upper=staff.username.upper())

        response = client.post(
            API_URL, data={**ticket_request, "username": username, "password": md5(PASSWORD)}
        )

        assert response.status_code == 403

    def test_a_deactivated_staff_member_cannot_log_in(self, make, client, ticket_request):
        staff = make.staff(active=False)

        response = client.post(
            API_URL, data={**ticket_request, "username": staff.username, "password": md5(PASSWORD)}
        )

        assert response.status_code == 403

    def test_the_legacy_login_is_not_tried_under_the_identifier_spelling(
        self, make, client, ticket_request
    ):
        staff = make.staff()

        response = client.post(
            API_URL, data={**ticket_request, "identifier": staff.username, "secret": md5(PASSWORD)}
        )

        assert response.status_code == 403
