"""Forwarded headers are trusted only as configured, and a proxy nobody configured is reported.

With PROXY_COUNT at 0 every request seems to come from the proxy: the API's allow-list admits
whoever the proxy admits and every rate limit counts all clients as one. Requests that carry
X-Forwarded-For then log one warning, so the operator learns of it from the first such request.
"""

import logging

import pytest

from portal import create_app

WARNING_START = "Requests carry X-Forwarded-For but PROXY_COUNT is 0"


def warnings_of(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and record.name == "portal.security"
    ]


@pytest.mark.parametrize("peer", ["203.0.113.9", "127.0.0.1"])
def test_a_forwarded_request_without_a_proxy_count_is_warned_of_once(client, caplog, peer):
    for _ in range(3):
        client.get(
            "/", headers={"X-Forwarded-For": "198.51.100.7"}, environ_base={"REMOTE_ADDR": peer}
        )

    [warning] = warnings_of(caplog)
    assert warning.startswith(WARNING_START)
    assert peer in warning and "PORTAL_PROXY_COUNT" in warning


def test_requests_without_x_forwarded_for_are_not_warned_of(client, caplog):
    client.get("/", environ_base={"REMOTE_ADDR": "203.0.113.9"})

    assert warnings_of(caplog) == []


def test_a_configured_proxy_count_is_not_warned_of(app_config, caplog):
    app = create_app({**app_config, "PROXY_COUNT": 1})

    app.test_client().get(
        "/",
        headers={"X-Forwarded-For": "198.51.100.7"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )

    assert warnings_of(caplog) == []
