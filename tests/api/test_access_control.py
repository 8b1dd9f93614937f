"""Access control before authentication: IP allow-lists, the access key, trusted proxies."""

import pytest

from tests.api.api_calls import API_URL, RESPONSE_TYPES, read_answer

STRANGER = "203.0.113.7"


@pytest.fixture
def ticket_request(ticket_fields):
    return {**ticket_fields, "responsetype": "json"}


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def answer_from(call_api, fields: dict, address: str):
    return call_api(fields, **from_address(address))


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_by_default_loopback_is_allowed(call_api, ticket_request, address):
    response = answer_from(call_api, ticket_request, address)

    assert read_answer(response, "json")["result"] == "success"


@pytest.mark.parametrize("address", [STRANGER, "10.0.0.1", "2001:db8::1", "127.0.0.2x", ""])
def test_by_default_everyone_else_is_refused_with_invalid_ip(call_api, ticket_request, address):
    response = answer_from(call_api, ticket_request, address)

    assert response.status_code == 403
    assert read_answer(response, "json") == {"result": "error", "message": f"Invalid IP {address}"}


@pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
def test_invalid_ip_comes_in_the_requested_response_type(call_api, ticket_fields, responsetype):
    response = answer_from(call_api, {**ticket_fields, "responsetype": responsetype}, STRANGER)

    assert response.status_code == 403
    assert read_answer(response, responsetype) == {
        "result": "error",
        "message": f"Invalid IP {STRANGER}",
    }


def test_the_address_is_checked_before_the_credentials(client, ticket_request):
    response = client.post(
        API_URL, data={**ticket_request, "identifier": "x", "secret": "y"}, **from_address(STRANGER)
    )

    assert read_answer(response, "json")["message"] == f"Invalid IP {STRANGER}"


class TestGlobalAllowList:
    @pytest.fixture
    def app_config(self, app_config):
        return {
            **app_config,
            "API_ALLOWED_IPS": "10.0.0.0/8, 192.0.2.1,2001:db8::/32 , not-an-address",
        }

    @pytest.mark.parametrize(
        "address", ["10.1.2.3", "192.0.2.1", "2001:db8::42", "::ffff:10.9.9.9"]
    )
    def test_listed_addresses_and_networks_are_allowed(self, call_api, ticket_request, address):
        response = answer_from(call_api, ticket_request, address)

        assert read_answer(response, "json")["result"] == "success"

    @pytest.mark.parametrize("address", ["127.0.0.1", "::1", "192.0.2.2", "11.0.0.1"])
    def test_others_are_refused(self, call_api, ticket_request, address):
        response = answer_from(call_api, ticket_request, address)

        assert read_answer(response, "json")["message"] == f"Invalid IP {address}"


class TestEmptyGlobalAllowList:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "API_ALLOWED_IPS": ""}

    def test_nobody_is_allowed(self, call_api, ticket_request):
        response = answer_from(call_api, ticket_request, "127.0.0.1")

        assert read_answer(response, "json")["message"] == "Invalid IP 127.0.0.1"


class TestCredentialAllowList:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "API_ALLOWED_IPS": "127.0.0.1, 198.51.100.0/24"}

    @pytest.fixture
    def credential(self, make, api_staff):
        return make.api_credential(api_staff, allowed_ips="198.51.100.0/28")

    def test_an_address_in_both_lists_is_allowed(self, call_api, ticket_request):
        response = answer_from(call_api, ticket_request, "198.51.100.5")

        assert read_answer(response, "json")["result"] == "success"

    @pytest.mark.parametrize("address", ["127.0.0.1", "198.51.100.200"])
    def test_an_address_only_the_global_list_allows_is_refused(
        self, call_api, ticket_request, address
    ):
        response = answer_from(call_api, ticket_request, address)

        assert response.status_code == 403
        assert read_answer(response, "json")["message"] == f"Invalid IP {address}"

    def test_the_credential_list_is_checked_only_once_the_secret_matched(
        self, call_api, ticket_request
    ):
        # Otherwise a stranger could tell identifiers that exist from ones that do not.
        response = answer_from(call_api, {**ticket_request, "secret": "wrong"}, "127.0.0.1")

        assert read_answer(response, "json")["message"] == "Authentication Failed"

    def test_other_credentials_are_not_restricted_by_it(
        self, make, client, api_staff, ticket_request
    ):
        identity, secret = make.api_credential(api_staff)

        response = client.post(
            API_URL, data={**ticket_request, "identifier": identity.identifier, "secret": secret}
        )

        assert read_answer(response, "json")["result"] == "success"


class TestAccessKey:
    ACCESS_KEY = "s3cret-access-key"

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "API_ACCESS_KEY": self.ACCESS_KEY}

    @pytest.fixture
    def credential(self, make, api_staff):
        return make.api_credential(api_staff, allowed_ips="198.51.100.1")

    def test_the_right_key_skips_both_address_checks(self, call_api, ticket_request):
        response = answer_from(call_api, {**ticket_request, "accesskey": self.ACCESS_KEY}, STRANGER)

        assert read_answer(response, "json")["result"] == "success"

    def test_the_right_key_does_not_replace_the_credentials(self, call_api, ticket_request):
        response = answer_from(
            call_api, {**ticket_request, "accesskey": self.ACCESS_KEY, "secret": "wrong"}, STRANGER
        )

        assert read_answer(response, "json")["message"] == "Authentication Failed"

    @pytest.mark.parametrize("key", [ACCESS_KEY + "x", ACCESS_KEY.upper(), "ключ", " "])
    @pytest.mark.parametrize("address", [STRANGER, "127.0.0.1"])
    def test_a_wrong_key_is_refused_even_from_an_allowed_address(
        self, call_api, ticket_request, key, address
    ):
        response = answer_from(call_api, {**ticket_request, "accesskey": key}, address)

        assert response.status_code == 403
        assert read_answer(response, "json") == {"result": "error", "message": "Invalid Access Key"}

    @pytest.mark.parametrize("responsetype", RESPONSE_TYPES)
    def test_invalid_access_key_comes_in_the_requested_response_type(
        self, call_api, ticket_fields, responsetype
    ):
        fields = {**ticket_fields, "responsetype": responsetype, "accesskey": "wrong"}

        response = call_api(fields)

        assert response.status_code == 403
        assert read_answer(response, responsetype) == {
            "result": "error",
            "message": "Invalid Access Key",
        }


def test_without_a_configured_key_any_key_sent_is_invalid(call_api, ticket_request):
    response = call_api({**ticket_request, "accesskey": "guess"})

    assert response.status_code == 403
    assert read_answer(response, "json")["message"] == "Invalid Access Key"


def test_an_empty_key_counts_as_none(call_api, ticket_request):
    response = call_api({**ticket_request, "accesskey": ""})

    assert read_answer(response, "json")["result"] == "success"


def test_forwarded_addresses_are_ignored_unless_proxies_are_trusted(call_api, ticket_request):
    response = call_api(
        ticket_request, headers={"X-Forwarded-For": "127.0.0.1"}, **from_address(STRANGER)
    )

    assert read_answer(response, "json")["message"] == f"Invalid IP {STRANGER}"


class TestBehindOneTrustedProxy:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PROXY_COUNT": 1}

    def test_the_client_address_comes_from_x_forwarded_for(self, call_api, ticket_request):
        response = call_api(ticket_request, headers={"X-Forwarded-For": STRANGER})

        assert read_answer(response, "json")["message"] == f"Invalid IP {STRANGER}"

    def test_only_the_address_the_proxy_added_counts(self, call_api, ticket_request):
        # The caller may send its own X-Forwarded-For; the proxy appends the address it saw.
        response = call_api(ticket_request, headers={"X-Forwarded-For": f"127.0.0.1, {STRANGER}"})

        assert read_answer(response, "json")["message"] == f"Invalid IP {STRANGER}"
