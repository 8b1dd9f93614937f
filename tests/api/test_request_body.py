"""api.php reads who is calling before the rest of the body, at little memory.

An unknown caller's large field or file is refused without being held in memory; a known
caller's request is read whole, its files through disk. Large bodies take the first pass over a
copy on disk, small ones are parsed at once: every behaviour here holds on both paths.
"""

import hashlib
import io
import secrets
import tracemalloc
from urllib.parse import quote_plus

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Ticket
from tests.api.api_calls import API_URL, read_answer

BIG = 16 * 1024 * 1024
# What a refused request may allocate while being read: buffers, never the big part.
SMALL_PEAK = 2 * 1024 * 1024


def multipart(parts: list[tuple[str, bytes | str]], files: list[tuple[str, str, bytes]] = ()):
    """(content type, body) of a multipart form with its parts in the order given."""
    boundary = "test" + secrets.token_hex(8)
    body = io.BytesIO()
    for name, value in parts:
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        )
        body.write(value.encode() if isinstance(value, str) else value)
        body.write(b"\r\n")
    for name, filename, data in files:
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        body.write(data + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", body.getvalue()


def urlencoded(parts: list[tuple[str, bytes | str]]):
    def encoded(value: bytes | str) -> bytes:
        return value if isinstance(value, bytes) else quote_plus(value).encode()

    return "application/x-www-form-urlencoded", b"&".join(
        encoded(name) + b"=" + encoded(value) for name, value in parts
    )


ENCODINGS = {"multipart": multipart, "urlencoded": urlencoded}


@pytest.fixture(params=["as configured", "a first pass for every body"])
def app_config(request, app_config):
    if request.param == "as configured":
        return app_config
    # Every body here is longer than this, so each takes the first pass.
    return {**app_config, "MAX_FORM_MEMORY_SIZE": 64}


def post(client, content_type: str, body: bytes, **options):
    return client.post(API_URL, data=body, content_type=content_type, **options)


def peak_while(call) -> tuple[object, int]:
    """What `call` returned, and the most memory Python allocated while it ran."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def the_ticket() -> Ticket:
    db.session.rollback()
    return db.session.scalars(select(Ticket)).one()


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("secret", [None, "wrong"], ids=["no credentials", "a wrong secret"])
def test_an_unknown_callers_large_field_is_not_held_in_memory(client, credential, encoding, secret):
    identity, _ = credential
    who = [] if secret is None else [("identifier", identity.identifier), ("secret", secret)]
    content_type, body = ENCODINGS[encoding](
        [("action", "OpenTicket"), ("responsetype", "json"), ("message", b"x" * BIG), *who]
    )

    response, peak = peak_while(lambda: post(client, content_type, body))

    assert response.status_code == 403
    assert read_answer(response, "json")["message"] == "Authentication Failed"
    assert peak < SMALL_PEAK, peak


def test_an_unknown_callers_large_file_is_not_held_in_memory(client):
    content_type, body = multipart(
        [("action", "OpenTicket")], files=[("attachments[]", "big.bin", b"x" * BIG)]
    )

    response, peak = peak_while(lambda: post(client, content_type, body))

    assert response.status_code == 403
    assert peak < SMALL_PEAK, peak


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_credentials_after_a_large_field_authenticate_and_the_whole_form_is_read(
    client, credential, ticket_fields, encoding
):
    identity, secret = credential
    message = "A long message. " * 6_000
    fields = {**ticket_fields, "message": message, "responsetype": "json"}
    content_type, body = ENCODINGS[encoding](
        [*fields.items(), ("identifier", identity.identifier), ("secret", secret)]
    )

    response = post(client, content_type, body)

    assert read_answer(response, "json")["result"] == "success", response.text
    assert the_ticket().message == message


def test_a_known_callers_large_file_is_stored_whole_without_being_held_in_memory(
    app, client, credential, ticket_fields
):
    app.config.update(ATTACHMENT_EXTENSIONS=".bin", ATTACHMENT_MAX_BYTES=BIG)
    identity, secret = credential
    data = b"x" * (BIG - 1024)
    content_type, body = multipart(
        [*ticket_fields.items(), ("identifier", identity.identifier), ("secret", secret)],
        files=[("attachments[]", "big.bin", data)],
    )

    response, peak = peak_while(lambda: post(client, content_type, body))

    assert response.status_code == 200, response.text
    [attachment] = the_ticket().attachments
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert peak < 4 * SMALL_PEAK, peak


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_repeated_credential_counts_with_its_last_value(
    client, credential, ticket_fields, encoding
):
    identity, secret = credential
    padding = ("message", "padding " * 100)
    right_last = ENCODINGS[encoding](
        [*ticket_fields.items(), padding, ("identifier", identity.identifier),
         ("secret", "wrong"), ("secret", secret)]
    )  # fmt: skip
    wrong_last = ENCODINGS[encoding](
        [*ticket_fields.items(), padding, ("identifier", identity.identifier),
         ("secret", secret), ("secret", "wrong")]
    )  # fmt: skip

    assert post(client, *right_last).status_code == 200
    assert post(client, *wrong_last).status_code == 403


def test_percent_encoded_names_are_read_as_werkzeug_reads_them(client, credential, ticket_fields):
    identity, secret = credential
    body = urlencoded([*ticket_fields.items(), ("message", "padding " * 100)])[1]
    body += f"&%69dentifier={identity.identifier}&secre%74={quote_plus(secret)}".encode()

    response = post(client, "application/x-www-form-urlencoded", body)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize(
    ("overlong", "message"),
    [
        ("identifier", "Authentication Failed"),
        ("secret", "Authentication Failed"),
        ("accesskey", "Invalid Access Key"),
    ],
)
def test_a_credential_over_a_kilobyte_is_refused(
    app, client, credential, ticket_fields, encoding, overlong, message
):
    app.config["API_ACCESS_KEY"] = "k" * 2000
    identity, secret = credential
    fields = {
        **ticket_fields,
        "responsetype": "json",
        "identifier": identity.identifier,
        "secret": secret,
        overlong: {"accesskey": "k" * 2000}.get(overlong, "y" * 2000),
    }
    if overlong == "secret":
        fields["secret"] = secret + "y" * 2000

    response = post(client, *ENCODINGS[encoding](list(fields.items())))

    assert response.status_code == 403
    assert read_answer(response, "json")["message"] == message


@pytest.mark.parametrize(
    "body",
    [
        b'--b\r\nContent-Disposition: form-data; name="identifier"\r\n\r\nx' + b"y" * 2000,
        b"no boundary anywhere " * 100,
        b'--b\r\nContent-Disposition: form-data; name="a"\r\n' + b"X-Header: y\r\n" * 30_000,
    ],
    ids=["cut short", "no boundary", "headers that never end"],
)
def test_a_broken_multipart_body_names_no_caller(client, credential, body):
    response = post(client, "multipart/form-data; boundary=b", body)

    assert response.status_code == 403
    assert response.text == "result=error;message=Authentication Failed"


def test_a_body_of_unknown_length_is_read_the_same_way(client, credential, ticket_fields):
    identity, secret = credential
    content_type, body = urlencoded(
        [*ticket_fields.items(), ("message", "padding " * 100),
         ("identifier", identity.identifier), ("secret", secret)]
    )  # fmt: skip

    response = client.post(
        API_URL,
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert response.status_code == 200, response.text
