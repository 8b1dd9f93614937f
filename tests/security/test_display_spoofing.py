"""File names lose the invisible controls that reorder text: a name shows what the file is.

U+202E (right-to-left override) makes `invoice\u202efdp.exe` display as `invoiceexe.pdf`; the
bidi embeddings, overrides, isolates and marks are stripped from every stored and held name.
"""

import base64
import io
import json

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Ticket
from portal.tickets.attachments import safe_name
from tests.security.conftest import answer

BIDI_CONTROLS = "\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "ATTACHMENT_EXTENSIONS": ".txt,.exe"}


@pytest.mark.parametrize("control", list(BIDI_CONTROLS))
def test_every_bidi_control_is_stripped_from_a_file_name(control):
    assert safe_name(f"invoice{control}txt.exe") == "invoicetxt.exe"


def stored_names() -> list[str]:
    db.session.rollback()
    return [a.original_name for a in db.session.scalars(select(Ticket)).one().attachments]


def test_a_name_uploaded_in_the_client_area_is_stored_without_them(client, department):
    response = client.post(
        "/submitticket",
        data={
            "deptid": department.id,
            "subject": "S",
            "message": "M",
            "name": "Gina Guest",
            "email": "gina@example.com",
            # Shown as "invoicetxt.exe" with the override; programs are refused by their bytes.
            "attachments": [(io.BytesIO(b"plain text"), "invoice\u202eexe.txt")],
        },
    )

    assert response.status_code == 303
    assert stored_names() == ["invoiceexe.txt"]


def test_a_name_sent_to_the_api_is_stored_without_them(call_api, department):
    files = [{"name": "\u2067report\u2069\u200f.txt", "data": base64.b64encode(b"x").decode()}]

    response = call_api(
        {
            "deptid": department.id,
            "subject": "S",
            "message": "M",
            "name": "N",
            "email": "n@example.com",
            "attachments": base64.b64encode(json.dumps(files).encode()).decode(),
        }
    )

    assert answer(response)["result"] == "success"
    assert stored_names() == ["report.txt"]


def test_a_name_held_for_the_next_try_is_shown_without_them(client, department):
    response = client.post(
        "/submitticket",
        data={
            "deptid": department.id,
            "subject": "",
            "message": "M",
            "name": "Gina Guest",
            "email": "gina@example.com",
            "attachments": [(io.BytesIO(b"MZ"), "invoice\u202etxt.exe")],
        },
    )

    assert response.status_code == 422
    assert "invoicetxt.exe" in response.text
    assert not any(control in response.text for control in BIDI_CONTROLS)
