"""OpenTicket over HTTP: the spec's own example, multipart uploads, flags and XML escaping."""

import base64
import hashlib
import json
from io import BytesIO
from urllib.parse import parse_qsl

import pytest

from portal.api.credentials import digest
from portal.extensions import db
from portal.models import ApiCredential, Editor, Priority, Ticket, TicketStatus
from portal.tickets.attachments import stored_path
from tests.api.api_calls import API_URL, parse_xml, read_answer

SAMPLE_FILE_CONTENTS = b"This is a sample text file contents"
# The spec's cURL example as PHP's http_build_query() sends it: true becomes 1, spaces +,
# and `*` and `=` are percent-encoded. The attachments value is
# base64_encode(json_encode([['name' => 'sample_text_file.txt',
#                             'data' => base64_encode('This is a sample text file contents')]])).
SPEC_EXAMPLE_BODY = (
    b"action=OpenTicket&username=IDENTIFIER_OR_ADMIN_USERNAME&password=SECRET_OR_HASHED_PASSWORD"
    b"&deptid=1&subject=This+is+a+sample+ticket"
    b"&message=This+is+a+%2A%2Asample%2A%2A+ticket+message&clientid=1&priority=Medium"
    b"&markdown=1&attachments=W3sibmFtZSI6InNhbXBsZV90ZXh0X2ZpbGUudHh0IiwiZGF0YSI6IlZHaHBjeUJwY3lC"
    b"aElITmhiWEJzWlNCMFpYaDBJR1pwYkdVZ1kyOXVkR1Z1ZEhNPSJ9XQ%3D%3D"
    b"&preventClientClosure=1&responsetype=json"
)


def test_the_spec_example_body_says_what_the_php_says():
    fields = dict(parse_qsl(SPEC_EXAMPLE_BODY.decode(), strict_parsing=True))

    assert fields["message"] == "This is a **sample** ticket message"
    assert json.loads(base64.b64decode(fields["attachments"])) == [
        {
            "name": "sample_text_file.txt",
            "data": base64.b64encode(SAMPLE_FILE_CONTENTS).decode(),
        }
    ]


def test_the_spec_example_request_opens_the_ticket_it_describes(
    make, client, api_staff, attachments_dir
):
    department = make.department(id=1)
    account = make.client_account(id=1)
    db.session.add(
        ApiCredential(
            identifier="IDENTIFIER_OR_ADMIN_USERNAME",
            secret_sha256=digest("SECRET_OR_HASHED_PASSWORD"),
            staff=api_staff,
        )
    )
    db.session.commit()

    response = client.post(
        API_URL, data=SPEC_EXAMPLE_BODY, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    answer = read_answer(response, "json")
    ticket = db.session.get(Ticket, int(answer["id"]))
    assert response.get_data(as_text=True) == (
        f'{{"result":"success","id":"{ticket.id}","tid":"{ticket.tid}","c":"{ticket.access_code}"}}'
    )
    assert (ticket.department, ticket.client) == (department, account)
    assert ticket.user == account.owner
    assert ticket.subject == "This is a sample ticket"
    assert ticket.message == "This is a **sample** ticket message"
    assert ticket.priority == Priority.MEDIUM
    assert ticket.status == TicketStatus.OPEN
    assert ticket.editor == Editor.MARKDOWN
    assert ticket.prevent_client_closure is True
    assert department.prevent_client_closure is False
    [attachment] = ticket.attachments
    assert attachment.original_name == "sample_text_file.txt"
    assert attachment.size == len(SAMPLE_FILE_CONTENTS)
    assert attachment.content_type == "text/plain"
    assert attachment.sha256 == hashlib.sha256(SAMPLE_FILE_CONTENTS).hexdigest()
    on_disk = stored_path(attachments_dir, attachment.stored_name).read_bytes()
    assert on_disk == SAMPLE_FILE_CONTENTS


PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_multipart_files_are_attached_beside_base64_attachments(
    call_api, ticket_fields, attachments_dir
):
    encoded = base64.b64encode(
        json.dumps(
            [{"name": "from-json.txt", "data": base64.b64encode(b"json bytes").decode()}]
        ).encode()
    ).decode()

    response = call_api(
        {
            **ticket_fields,
            "responsetype": "json",
            "attachments": encoded,
            "attachments[]": [
                (BytesIO(b"first upload\n"), "notes.txt"),
                (BytesIO(PNG_PIXEL), "pixel.png"),
                (BytesIO(b""), ""),
            ],  # an unused file input, as browsers send it
        }
    )

    ticket = db.session.get(Ticket, int(read_answer(response, "json")["id"]))
    stored = {
        a.original_name: (a.content_type, stored_path(attachments_dir, a.stored_name))
        for a in ticket.attachments
    }
    assert {name: (kind, path.read_bytes()) for name, (kind, path) in stored.items()} == {
        "notes.txt": ("text/plain", b"first upload\n"),
        "pixel.png": ("image/png", PNG_PIXEL),
        "from-json.txt": ("text/plain", b"json bytes"),
    }


def test_a_refused_multipart_file_answers_the_cores_message(call_api, ticket_fields):
    response = call_api(
        {
            **ticket_fields,
            "responsetype": "json",
            "attachments[]": [(BytesIO(b"<?php"), "shell.php")],
        }
    )

    assert response.status_code == 200
    assert read_answer(response, "json") == {
        "result": "error",
        "message": "The file shell.php is not allowed: that file type is never accepted",
    }


def test_large_base64_attachments_in_a_multipart_body_are_not_refused(call_api, ticket_fields):
    data = bytes(range(256)) * 4096  # 1 MiB: twice werkzeug's default limit for a text field
    encoded = base64.b64encode(
        json.dumps([{"name": "big.txt", "data": base64.b64encode(data).decode()}]).encode()
    ).decode()

    response = call_api(
        {
            **ticket_fields,
            "responsetype": "json",
            "attachments": encoded,
            "attachments[]": [(BytesIO(b"small"), "small.txt")],
        }
    )

    assert read_answer(response, "json")["result"] == "success"


TRUE_VALUES = ["1", "true", "on", "yes", "TRUE", "Yes", " on "]
FALSE_VALUES = ["0", "false", "off", "no", "", "FALSE", "No"]


def opened(call_api, fields: dict) -> Ticket:
    answer = read_answer(call_api({**fields, "responsetype": "json"}), "json")
    assert answer["result"] == "success", answer
    return db.session.get(Ticket, int(answer["id"]))


@pytest.mark.parametrize(
    ("value", "expected"), [(v, True) for v in TRUE_VALUES] + [(v, False) for v in FALSE_VALUES]
)
def test_boolean_fields_read_what_php_clients_send(call_api, ticket_fields, value, expected):
    ticket = opened(
        call_api,
        {
            **ticket_fields,
            "markdown": value,
            "noemail": value,
            "preventClientClosure": value,
            "admin": value,
        },
    )

    assert ticket.is_markdown is expected
    assert ticket.email_suppressed is expected
    assert ticket.prevent_client_closure is expected
    assert (ticket.opened_by is not None) is expected


def test_other_boolean_values_are_true_as_in_php(call_api, ticket_fields):
    assert opened(call_api, {**ticket_fields, "markdown": "2"}).is_markdown is True


def test_absent_booleans_are_false(call_api, ticket_fields):
    ticket = opened(call_api, ticket_fields)

    assert (ticket.is_markdown, ticket.email_suppressed, ticket.opened_by) == (False, False, None)


@pytest.mark.parametrize("department_setting", [True, False])
def test_without_prevent_client_closure_the_department_decides(
    make, call_api, ticket_fields, department_setting
):
    department = make.department(prevent_client_closure=department_setting)

    ticket = opened(call_api, {**ticket_fields, "deptid": str(department.id)})

    assert ticket.prevent_client_closure is department_setting


def test_an_explicit_false_overrides_the_department(make, call_api, ticket_fields):
    department = make.department(prevent_client_closure=True)

    ticket = opened(
        call_api, {**ticket_fields, "deptid": str(department.id), "preventClientClosure": "0"}
    )

    assert ticket.prevent_client_closure is False


def test_text_fields_arrive_unchanged(call_api, ticket_fields):
    message = "Tabs\tand\r\nnew lines, <b>markup</b> & emoji 😀 stay as sent\n"

    ticket = opened(call_api, {**ticket_fields, "message": message, "subject": "Ünïcode ✓"})

    assert (ticket.message, ticket.subject) == (message, "Ünïcode ✓")


def test_a_repeated_field_counts_with_its_last_value_as_in_php(call_api, ticket_fields):
    fields = {**ticket_fields, "subject": ["First try", "Last word"], "priority": ["High", "Low"]}

    ticket = opened(call_api, fields)

    assert (ticket.subject, ticket.priority) == ("Last word", Priority.LOW)


class TestXmlEscaping:
    MASK = "<&😀>-%n%n%n"

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "TICKET_MASK": self.MASK}

    def test_a_ticket_number_with_markup_characters_and_emoji_survives(
        self, call_api, ticket_fields
    ):
        response = call_api({**ticket_fields, "responsetype": "xml"})

        answer = read_answer(response, "xml")
        assert answer["tid"].startswith("<&😀>-")
        assert db.session.get(Ticket, int(answer["id"])).tid == answer["tid"]
        assert b"&lt;&amp;\xf0\x9f\x98\x80&gt;-" in response.data

    def test_an_error_message_naming_a_file_keeps_its_characters(self, call_api, ticket_fields):
        name = "R&D report 😀.exe"
        encoded = base64.b64encode(
            json.dumps([{"name": name, "data": base64.b64encode(b"MZ").decode()}]).encode()
        ).decode()

        response = call_api({**ticket_fields, "responsetype": "xml", "attachments": encoded})

        message = parse_xml(response.data).findtext("message")
        assert message.startswith(f"The file {name} is not allowed.")


@pytest.mark.parametrize("field", ["subject", "message", "name", "email", "priority", "created"])
def test_a_nul_character_never_breaks_the_database(call_api, ticket_fields, field):
    # PostgreSQL refuses NUL in text; the answer must still be WHMCS's, never a server error.
    value = ticket_fields.get(field, "2020-01-01") + "\x00"

    response = call_api({**ticket_fields, field: value, "responsetype": "json"})

    assert response.status_code == 200
    answer = read_answer(response, "json")
    if answer["result"] == "success":
        ticket = db.session.get(Ticket, int(answer["id"]))
        assert "\x00" not in ticket.subject + ticket.message + ticket.name + ticket.email


def test_nul_characters_are_dropped_from_custom_field_values(make, call_api, ticket_fields):
    department = make.department()
    field = make.custom_field(department)
    encoded = base64.b64encode(json.dumps({str(field.id): "a\x00b"}).encode()).decode()

    ticket = opened(
        call_api,
        {**ticket_fields, "deptid": str(department.id), "customfields": encoded},
    )

    assert [value.value for value in ticket.custom_field_values] == ["ab"]
