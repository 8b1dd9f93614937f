"""Credentials that arrive in a URL are never written to a log."""

import logging
import subprocess
import sys
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from portal.log_redaction import REDACTED, redact
from tests.api.api_calls import API_URL

SECRET = "s3cr3t-value"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET /includes/api.php?action=GetTicket&identifier=ID1&secret=S1&ticketid=1 HTTP/1.1",
            f"GET /includes/api.php?action=GetTicket&identifier={REDACTED}&secret={REDACTED}"
            "&ticketid=1 HTTP/1.1",
        ),
        ("/x?username=admin&password=5f4dcc3b", f"/x?username={REDACTED}&password={REDACTED}"),
        ("/x?accesskey=K&responsetype=json", f"/x?accesskey={REDACTED}&responsetype=json"),
        ("/x?SECRET=S1", f"/x?SECRET={REDACTED}"),
        ("/x?%73ecret=S1", f"/x?%73ecret={REDACTED}"),
        ("/x?secret+=S1", f"/x?secret+={REDACTED}"),
        ("/x?a=1;secret=S1", f"/x?a=1;secret={REDACTED}"),
        ('"GET /x?secret=S1 HTTP/1.1" 200', f'"GET /x?secret={REDACTED} HTTP/1.1" 200'),
        ("/x?secretive=S1&mysecret=S2", "/x?secretive=S1&mysecret=S2"),
        ("no query string here", "no query string here"),
        ("/x?secret=", f"/x?secret={REDACTED}"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def credential_url(credential, **fields) -> str:
    identity, secret = credential
    query = urlencode(
        {"action": "GetTickets", "identifier": identity.identifier, "secret": secret, **fields}
    )
    return f"{API_URL}?{query}"


def test_the_development_servers_request_log_is_redacted(client, credential, caplog):
    identity, secret = credential
    url = credential_url(credential, accesskey="AK-123")
    caplog.set_level(logging.INFO, logger="werkzeug")

    # What werkzeug's development server logs for each request.
    logging.getLogger("werkzeug").info('%s - - [date] "%s" %s -', "127.0.0.1", f"GET {url}", 200)

    [record] = [r for r in caplog.records if r.name == "werkzeug"]
    assert secret not in record.getMessage()
    assert identity.identifier not in record.getMessage()
    assert "AK-123" not in record.getMessage()
    assert f"secret={REDACTED}" in record.getMessage()


def test_the_apps_own_log_is_redacted(app, caplog):
    caplog.set_level(logging.INFO)

    logging.getLogger("portal.api").warning("Strange request %s", f"/x?password={SECRET}")

    assert SECRET not in caplog.text


def test_gunicorns_access_log_is_redacted(app, credential, capsys):
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    config = Config()
    config.set("accesslog", "-")
    logger = Logger(config)
    identity, secret = credential
    query = urlencode({"identifier": identity.identifier, "secret": secret, "action": "x"})
    request = SimpleNamespace(
        method="GET",
        uri=f"{API_URL}?{query}",
        path=API_URL,
        query=query,
        version=(1, 1),
        headers=[],
        response_headers=[],
    )
    response = SimpleNamespace(status="200 OK", response_length=10, headers=[], sent=10)
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "GET",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": API_URL,
        "RAW_URI": request.uri,
        "QUERY_STRING": query,
    }

    logger.access(response, request, environ, timedelta(seconds=0.01))

    written = capsys.readouterr().out
    assert "GET /includes/api.php?" in written
    assert secret not in written
    assert identity.identifier not in written


def test_gunicorn_conf_loads_without_the_app():
    result = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('gunicorn.conf.py')"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
