"""Uploads over HTTP: never served inline, typed from their bytes, named safely, stored randomly."""

import io
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Attachment, Ticket
from tests.security.conftest import files_under, ticket_count

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
INLINE_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "ATTACHMENT_EXTENSIONS": ".txt,.png,.svg,.html"}


def submit(client, department, *files, **fields):
    return client.post(
        "/submitticket",
        data={
            "deptid": department.id,
            "subject": "Files",
            "message": "See the files.",
            "name": "Gina Guest",
            "email": "gina@example.com",
            **fields,
            "attachments": [(io.BytesIO(data), name) for name, data in files],
        },
    )


def the_ticket() -> Ticket:
    db.session.rollback()
    return db.session.scalars(select(Ticket)).one()


def downloads(client, staff_client, ticket: Ticket, attachment: Attachment):
    client_area = client.get(
        f"/viewticket/attachment/{attachment.id}?tid={ticket.tid}&c={ticket.access_code}"
    )
    staff_area = staff_client.get(f"/staff/tickets/{ticket.tid}/attachments/{attachment.id}")
    return client_area, staff_area


def test_svg_is_a_download_typed_from_its_bytes(client, staff_client, department):
    response = submit(client, department, ("drawing.svg", SVG))
    assert response.status_code == 303
    ticket = the_ticket()

    [attachment] = ticket.attachments
    for download in downloads(client, staff_client, ticket, attachment):
        assert download.status_code == 200
        assert download.data == SVG
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.mimetype == "text/plain"
        assert download.mimetype not in INLINE_TYPES


@pytest.mark.parametrize("name", ["page.html", "looks.png", "notes.txt"])
def test_html_is_refused_whatever_its_name_and_the_configuration(client, department, app, name):
    response = submit(client, department, (name, HTML))

    assert response.status_code == 422
    assert f"The file {name} is not allowed: its contents are HTML" in response.text
    assert ticket_count() == 0
    assert files_under(app.config["ATTACHMENTS_DIR"]) == []


def test_a_text_file_named_png_is_refused_and_the_form_keeps_the_rest(client, department, app):
    response = submit(
        client, department, ("fake.png", b"I am text"), ("notes.txt", b"notes"), subject="Mine"
    )

    assert response.status_code == 422
    assert (
        "The file fake.png is not allowed: its contents are not those of a .png file"
        in response.text
    )
    assert 'value="Mine"' in response.text and 'value="Gina Guest"' in response.text
    assert "Remove notes.txt" in response.text
    assert "Remove fake.png" not in response.text
    assert ticket_count() == 0
    assert files_under(app.config["ATTACHMENTS_DIR"]) == []


def test_the_declared_type_is_ignored(client, department):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    client.post(
        "/submitticket",
        data={
            "deptid": department.id,
            "subject": "S",
            "message": "M",
            "name": "N",
            "email": "n@example.com",
            "attachments": [
                (io.BytesIO(b"plain notes"), "notes.txt", "image/png"),
                (io.BytesIO(png), "really.png", "text/html"),
            ],
        },
    )

    types = {a.original_name: a.content_type for a in the_ticket().attachments}
    assert types == {"notes.txt": "text/plain", "really.png": "image/png"}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        # Werkzeug reads the backslashes of a quoted multipart name as escapes; none survive.
        ("C:\\Users\\me\\report.txt", "CUsersmereport.txt"),
        ("C:/Users/me/report.txt", "report.txt"),
        ("/var/www/../notes.txt", "notes.txt"),
        ("bell\x07and\x1bescape.txt", "bellandescape.txt"),
        ("tab\tname.txt", "tabname.txt"),
    ],
)
def test_names_lose_their_paths_and_control_characters(client, department, sent, kept):
    response = submit(client, department, (sent, b"contents"))

    assert response.status_code == 303
    [attachment] = the_ticket().attachments
    assert attachment.original_name == kept


@pytest.mark.parametrize("sent", [".htaccess.txt", "../.hidden.txt", ".txt"])
def test_a_leading_dot_is_refused(client, department, app, sent):
    response = submit(client, department, (sent, b"contents"))

    assert response.status_code == 422
    assert "not allowed" in response.text
    assert ticket_count() == 0
    assert files_under(app.config["ATTACHMENTS_DIR"]) == []


def test_files_are_stored_under_random_names(client, department, app):
    submit(client, department, ("report.txt", b"one"), ("report.txt", b"two"))

    stored = files_under(app.config["ATTACHMENTS_DIR"])
    assert len(stored) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", path.name) for path in stored)
    assert sorted(path.read_bytes() for path in stored) == [b"one", b"two"]
