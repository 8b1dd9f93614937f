"""Every action driven from the OpenAPI document with parameters Hypothesis draws: the answer
always matches the document, is never a 500, and leaves nothing half-made.

The parameters of each action, and the schema of its success answer, are read from the
document (`x-whmcs-actions`); values are drawn from the documented examples, from the ids of
records that exist, and from odd text. Each example starts with a fresh conversation (a
ticket with files, a reply and a note with files), since DeleteTicket may remove it.
"""

import base64
import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from portal.api.views import OPENAPI_DOCUMENT
from portal.extensions import db
from portal.models import (
    Attachment,
    CustomFieldValue,
    IdempotencyKey,
    OutboxMessage,
    Ticket,
    TicketNote,
    TicketReply,
)
from portal.tickets import OpenTicketRequest, open_ticket
from portal.tickets.attachments import stored_path
from portal.tickets.notes import NoteRequest, add_note
from portal.tickets.replies import ReplyRequest, add_reply
from tests.api.api_calls import API_URL, base64_files, parse_xml
from tests.conftest import stored_files

DOCUMENT = json.loads(Path(OPENAPI_DOCUMENT).read_text(encoding="utf-8"))
DOCUMENT_URI = "urn:portal:api.openapi.json"
OPERATIONS = DOCUMENT["paths"]["/includes/api.php"]
DESCRIBED = OPERATIONS["post"]["x-whmcs-actions"]
REGISTRY = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(DOCUMENT))
MIMETYPES = {"json": "application/json", "xml": "application/xml", "": "text/plain"}
# What each example may change, compared column by column to find anything half-made.
RECORDS = (
    Ticket,
    TicketReply,
    TicketNote,
    Attachment,
    CustomFieldValue,
    IdempotencyKey,
    OutboxMessage,
)
READING_ACTIONS = {name for name in DESCRIBED if name.startswith("Get")}


def resolve(reference: dict) -> dict:
    target = DOCUMENT
    for part in reference["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return target


def validator(reference: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{DOCUMENT_URI}#{reference}"}, registry=REGISTRY)


def response_validator(method: str, status: int) -> Draft202012Validator:
    pointer = f"/paths/~1includes~1api.php/{method}/responses/{status}/content/application~1json"
    return validator(f"{pointer}/schema")


# Placeholders for the records each example makes, filled in once they exist.
LIVE_IDS = ["{ticket}", "{reply}", "{note}", "{department}", "{client}", "{contact}", "{staff}"]
odd_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "0", "-1", "💥", "null", "9" * 30, "1e9", "%", "Open"]),
)
integers_as_text = st.one_of(
    st.integers(min_value=-5, max_value=10**6).map(str),
    st.sampled_from(["2147483648", "9" * 40, " 3 ", "abc"]),
)
flags = st.sampled_from(["1", "true", "on", "0", "false", "", "maybe"])
created_values = st.sampled_from(
    ["2024-05-01 09:30:00", "2024-05-01T09:30:00+02:00", "yesterday", "2999-01-01 00:00:00", ""]
)
attachment_values = st.one_of(
    st.just(base64_files(("fine.txt", b"fine"))),
    st.just(base64_files(("evil.php", b"<?php"))),
    st.sampled_from(["!!!", "", base64.b64encode(b"[1, 2]").decode()]),
)
custom_field_values = st.one_of(
    st.sampled_from(["{customfields}", "!!!", ""]),
    st.just(base64.b64encode(b'{"999999": "x"}').decode()),
)

SPECIAL = {
    "ticketnum": st.sampled_from(["{tid}", "#{tid}", "NOPE-000000", ""]),
    "adminusername": st.sampled_from(["{staff_username}", "nobody", ""]),
    "attachments": attachment_values,
    "customfields": custom_field_values,
    "created": created_values,
    "email": st.sampled_from(["g@example.com", "not an address", "", "{owner_email}"]),
    "status": st.sampled_from(
        [
            "Open",
            "Closed",
            "On Hold",
            "Customer-Reply",
            "Awaiting Reply",
            "All Active Tickets",
            "My Flagged Tickets",
            "Bogus",
            "",
        ]
    ),
    "priority": st.sampled_from(["Low", "High", "urgent", ""]),
    "type": st.sampled_from(["ticket", "reply", "note", "Note", "message", ""]),
    "index": st.sampled_from(["0", "1", "2", "-1", "", "x"]),
    "repliessort": st.sampled_from(["ASC", "DESC", "desc", "sideways"]),
    "limitstart": integers_as_text,
    "limitnum": integers_as_text,
}


# The record each id parameter most likely names, for requests that should succeed.
LIKELY = {
    "ticketid": "{ticket}",
    "relatedid": "{ticket}",
    "deptid": "{department}",
    "clientid": "{client}",
    "userid": "{client}",
    "contactid": "{contact}",
    "flag": "{staff}",
    "ticketnum": "{tid}",
    "adminusername": "{staff_username}",
    "customfields": "{customfields}",
    "attachments": base64_files(("fine.txt", b"fine")),
    "created": "2024-05-01 09:30:00",
    "email": "g@example.com",
    "type": "ticket",
    "index": "0",
    "name": "Gina Guest",
}


def likely_value(name: str, schema: dict):
    """A value the action should accept: the record it names, or a documented example."""
    if name in LIKELY:
        return st.just(LIKELY[name])
    if schema.get("examples"):
        return st.sampled_from(schema["examples"])
    return st.sampled_from(["Some text", "1"])


def values_for(name: str, schema: dict):
    """Values for one documented parameter: its examples, live ids, or odd text."""
    examples = st.sampled_from(schema["examples"]) if schema.get("examples") else st.nothing()
    if name in SPECIAL:
        return st.one_of(SPECIAL[name], examples)
    if "(int) cast" in schema.get("description", ""):
        return st.one_of(st.sampled_from(LIVE_IDS), integers_as_text, examples)
    if "True: `1`" in schema.get("description", ""):
        return flags
    return st.one_of(examples, odd_text)


@st.composite
def calls(draw):
    """An action, its parameters, where each goes (query string or body), and how to answer."""
    action = draw(st.sampled_from(sorted(DESCRIBED)))
    schema = resolve(DESCRIBED[action]["request"])
    # Half the requests use values the action should accept, so that successes are common too.
    plausible = draw(st.booleans())
    fields = {}
    for name, parameter in schema["properties"].items():
        if name == "action":
            continue
        wanted = name in schema["required"] and draw(st.integers(0, 9)) > 0
        if wanted or draw(st.integers(0, 2)) == 0:
            drawn = likely_value if plausible else values_for
            fields[name] = draw(drawn(name, parameter))
    if plausible and action == "AddTicketReply":
        fields.setdefault("adminusername", "{staff_username}")
    method = draw(st.sampled_from(["post", "post", "get"]))
    # Where each parameter goes for a POST: the body, the query string, or both (body wins).
    placement = {name: draw(st.sampled_from(["body", "body", "query", "both"])) for name in fields}
    spelled = draw(st.sampled_from([action, action.lower(), action.upper()]))
    responsetype = draw(st.sampled_from(["json", "json", "json", "xml", ""]))
    # Mostly no key; sometimes one used before (a replay, or a key reused for another request),
    # sometimes a new one.
    key = draw(st.sampled_from([None, None, None, "key-1", "{fresh}"]))
    return action, spelled, fields, method, placement, responsetype, key


def conversation(make, settings) -> dict[str, str]:
    """A client's ticket with files, a staff reply and a note with files; its values by name."""
    department = make.department()
    field = make.custom_field(department)
    account = make.client_account()
    contact = make.contact(account)
    staff = make.staff()
    session = db.session()
    ticket = open_ticket(
        session,
        OpenTicketRequest(
            deptid=department.id,
            subject="S",
            message="M",
            clientid=account.id,
            noemail=True,
            attachments=base64_files(("t.txt", b"t")),
        ),
        settings,
    )
    reply = add_reply(
        session,
        ticket,
        ReplyRequest(message="R", noemail=True, attachments=base64_files(("r.txt", b"r"))),
        settings,
        staff=staff,
    )
    note = add_note(
        session,
        ticket,
        NoteRequest(message="N", attachments=base64_files(("n.txt", b"n"))),
        settings,
        staff=staff,
    )
    session.commit()
    return {
        "{ticket}": str(ticket.id),
        "{tid}": ticket.tid,
        "{reply}": str(reply.id),
        "{note}": str(note.id),
        "{department}": str(department.id),
        "{client}": str(account.id),
        "{contact}": str(contact.id),
        "{staff}": str(staff.id),
        "{staff_username}": staff.username,
        "{owner_email}": account.owner.email,
        "{customfields}": base64.b64encode(json.dumps({field.id: "v"}).encode()).decode(),
        "{fresh}": f"fresh-{ticket.id}",
    }


def filled(value: str, live: dict[str, str]) -> str:
    for placeholder, actual in live.items():
        value = value.replace(placeholder, actual)
    return value


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the records an action may write, as plain values."""
    db.session.rollback()  # see what the requests committed
    return {
        model.__tablename__: sorted(
            tuple(str(value) for value in row)
            for row in db.session.execute(select(*model.__table__.columns))
        )
        for model in RECORDS
    }


def assert_nothing_half_made(directory: Path) -> None:
    """Every file has its row and every row its file; every key names what it made."""
    db.session.rollback()
    stored = {path.name for path in stored_files(directory)}
    rows = set(db.session.scalars(select(Attachment.stored_name)))
    assert stored == rows
    for attachment in db.session.scalars(select(Attachment)):
        assert stored_path(directory, attachment.stored_name).is_file()
    for key in db.session.scalars(select(IdempotencyKey)):
        assert key.ticket_id is not None


def answer_of(response) -> dict | None:
    """The answer, checked to be well-formed in its type; the JSON fields for JSON."""
    if response.mimetype == "application/json":
        return response.get_json()
    if response.mimetype == "application/xml":
        root = parse_xml(response.data)
        assert (root.tag, root[0].tag) == ("whmcsapi", "action")
        assert root.find("result").text in ("success", "error")
        return None
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith(("result=success", "result=error;"))
    return None


@pytest.fixture
def app_config(app_config):
    # The after-commit mail thread would move `random` (see tests/security/test_api_properties)
    # and change outbox rows while the test compares them.
    return {**app_config, "MAIL_DELIVER_AFTER_COMMIT": False}


@hypothesis_settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=calls())
def test_every_action_answers_as_documented_and_leaves_nothing_half_made(
    app, client, credential, make, settings, attachments_dir, call
):
    action, spelled, fields, method, placement, responsetype, key = call
    live = conversation(make, settings)
    identity, secret = credential
    parameters = {name: filled(value, live) for name, value in fields.items()}
    transport = {"identifier": identity.identifier, "secret": secret, "action": spelled}
    if responsetype:
        transport["responsetype"] = responsetype
    query, body = {}, {}
    if method == "get":
        query = {**transport, **parameters}
    else:
        body = dict(transport)
        for name, value in parameters.items():
            if placement[name] in ("query", "both"):
                query[name] = value if placement[name] == "query" else "from the query string"
            if placement[name] in ("body", "both"):
                body[name] = value
    headers = {"Idempotency-Key": filled(key, live)} if key is not None else {}
    before = snapshot()

    url = f"{API_URL}?{urlencode(query)}" if query else API_URL
    response = client.open(url, method=method.upper(), data=body or None, headers=headers)

    assert response.status_code != 500, response.data[:500]
    assert str(response.status_code) in OPERATIONS[method]["responses"]
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    if not replayed:
        assert response.mimetype == MIMETYPES[responsetype]
    answer = answer_of(response)
    event(f"{action} {response.status_code}")
    if answer is not None:
        response_validator(method, response.status_code).validate(answer)
        if response.status_code == 200 and answer["result"] == "success":
            validator(DESCRIBED[action]["success"]["$ref"].removeprefix("#")).validate(answer)
        event(f"{action} {answer['result']}")
    assert_nothing_half_made(attachments_dir)
    refused = (
        response.data.startswith(b"result=error") or b"<result>error</result>" in response.data
    )
    if answer is not None:
        refused = answer["result"] == "error"
    if refused or response.status_code != 200 or action in READING_ACTIONS or replayed:
        assert snapshot() == before


def test_the_strategies_reach_every_action_and_parameter():
    for action, described in DESCRIBED.items():
        schema = resolve(described["request"])
        for name, parameter in schema["properties"].items():
            if name != "action":
                assert values_for(name, parameter) is not None, (action, name)
    assert datetime.now().year < 2999  # the future date drawn above stays in the future
