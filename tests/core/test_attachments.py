"""Attachments: what is accepted, what is refused (never silently), and what lands on disk."""

import dataclasses
import hashlib
import io

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Attachment, Ticket
from portal.tickets import IncomingFile, OpenTicketError, errors
from portal.tickets.attachments import safe_name, stored_path
from tests.conftest import stored_files
from tests.core.conftest import encode_attachments, refusal

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


def test_base64_attachments_are_stored_with_their_facts(open_, guest_request, attachments_dir):
    data = b"This is a sample text file contents"
    ticket = open_(
        guest_request(attachments=encode_attachments(("sample.txt", data), ("pixel.png", PNG)))
    )
    first, second = ticket.attachments
    assert (first.original_name, first.size, first.content_type) == (
        "sample.txt",
        len(data),
        "text/plain",
    )
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert stored_path(attachments_dir, first.stored_name).read_bytes() == data
    assert (second.original_name, second.content_type) == ("pixel.png", "image/png")
    assert len(stored_files(attachments_dir)) == 2


def test_uploaded_streams_are_stored(open_, guest_request, attachments_dir):
    upload = IncomingFile("report.pdf", io.BytesIO(b"%PDF-1.4\n" + b"x" * 5000))
    ticket = open_(guest_request(uploads=[upload]))
    (attachment,) = ticket.attachments
    assert (attachment.content_type, attachment.size) == ("application/pdf", 5009)


def test_the_stored_type_comes_from_the_bytes_not_the_name(guest_request, settings):
    from portal.tickets import open_ticket

    # .dat says nothing of a file's kind: the bytes alone do.
    lax = dataclasses.replace(settings, allowed_extensions=frozenset({".dat"}))
    files = encode_attachments(("pixel.dat", PNG), ("notes.dat", b"notes"), ("raw.dat", b"\0\1"))
    ticket = open_ticket(db.session, guest_request(attachments=files), lax)
    assert [a.content_type for a in ticket.attachments] == [
        "image/png",
        "text/plain",
        "application/octet-stream",
    ]


ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 57
WINDOWS_PROGRAM = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff" + b"\0" * 48


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("page.txt", b"<!DOCTYPE html><html><body>Hi</body></html>", "HTML"),
        ("fake.png", b"\xef\xbb\xbf\n  <html><script>alert(1)</script>", "HTML"),
        ("page.txt", b'<?xml version="1.0"?>\n<!-- saved -->\n<HTML lang="en">', "HTML"),
        ("alert.txt", b"<script>alert(1)</script>", "a script"),
        ("shell.txt", b"<?php system($_GET['c']);", "a script"),
        ("run.txt", b"#!/bin/sh\nrm -rf ~\n", "a script"),
        ("tool.pdf", ELF, "a program"),
        ("setup.txt", WINDOWS_PROGRAM, "a program"),
    ],
    ids=["doctype", "BOM and spaces", "XML and comment", "script", "PHP", "#!", "ELF", "MZ"],
)
def test_pages_scripts_and_programs_are_refused_whatever_their_name(
    open_, guest_request, attachments_dir, name, data, kind
):
    message = refusal(open_, guest_request(attachments=encode_attachments((name, data))))

    assert (
        message
        == f"The file {name} is not allowed: its contents are {kind}, which is never accepted"
    )
    assert stored_files(attachments_dir) == []


def test_html_is_refused_even_where_the_configuration_allows_html(guest_request, settings):
    from portal.tickets import OpenTicketError, open_ticket

    lax = dataclasses.replace(settings, allowed_extensions=frozenset({".html"}))
    files = encode_attachments(("page.html", b"<!doctype html><title>x</title>"))
    with pytest.raises(OpenTicketError, match="its contents are HTML, which is never accepted"):
        open_ticket(db.session, guest_request(attachments=files), lax)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("fake.png", b"just some text"),
        ("photo.jpeg", PNG),
        ("scan.pdf", b"not a PDF at all"),
        ("empty.gif", b""),
        ("notes.txt", PNG),
    ],
    ids=["text as .png", "PNG as .jpeg", "text as .pdf", "empty .gif", "PNG as .txt"],
)
def test_bytes_that_are_not_what_the_extension_says_are_refused(
    open_, guest_request, attachments_dir, name, data
):
    extension = name.rpartition(".")[2]

    message = refusal(open_, guest_request(attachments=encode_attachments((name, data))))

    assert message == (
        f"The file {name} is not allowed: its contents are not those of a .{extension} file"
    )
    assert stored_files(attachments_dir) == []


def test_every_refused_file_is_named_at_once(open_, guest_request):
    files = encode_attachments(("fake.png", b"text"), ("page.txt", b"<html>"), ("ok.txt", b"ok"))

    with pytest.raises(OpenTicketError) as refused:
        open_(guest_request(attachments=files))

    assert [error.message for error in refused.value.errors] == [
        "The file fake.png is not allowed: its contents are not those of a .png file",
        "The file page.txt is not allowed: its contents are HTML, which is never accepted",
    ]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"BMW service notes", "text/plain"),
        (b"ID3 tags to fix", "text/plain"),
        (b"MZ is my initials", "text/plain"),
        # Latin-1 is accepted as a .txt, though not typed as text: it is not UTF-8.
        (b"BM Caf\xe9 menu\x1a", "application/octet-stream"),
    ],
    ids=["BM", "ID3", "MZ", "Latin-1"],
)
def test_text_that_starts_like_a_short_signature_is_accepted(
    open_, guest_request, data, content_type
):
    ticket = open_(guest_request(attachments=encode_attachments(("notes.txt", data))))

    assert ticket.attachments[0].content_type == content_type


def test_a_stream_that_cannot_be_looked_at_first_is_checked_while_stored(
    guest_request, settings, attachments_dir
):
    from portal.tickets import open_ticket

    uploads = [IncomingFile("page.txt", _UnseekableStream(b"<html><body>x</body></html>"))]
    with pytest.raises(OpenTicketError, match=r"page\.txt is not allowed: its contents are HTML"):
        open_ticket(db.session, guest_request(uploads=uploads), settings)
    db.session.rollback()
    assert stored_files(attachments_dir) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("shell.php", "The file shell.php is not allowed: that file type is never accepted"),
        (
            "shell.php.txt",
            "The file shell.php.txt is not allowed: that file type is never accepted",
        ),
        ("x.CGI", "The file x.CGI is not allowed: that file type is never accepted"),
        (".htaccess", "The file .htaccess is not allowed: names starting with a dot are refused"),
        (
            ".hidden.txt",
            "The file .hidden.txt is not allowed: names starting with a dot are refused",
        ),
        (
            "tool.exe",
            "The file tool.exe is not allowed. Allowed file extensions: "
            ".gif, .jpeg, .jpg, .pdf, .png, .txt",
        ),
        (
            "README",
            "The file README is not allowed. Allowed file extensions: "
            ".gif, .jpeg, .jpg, .pdf, .png, .txt",
        ),
        ("", "An attachment has no file name"),
    ],
)
def test_refused_files_fail_the_whole_request(open_, guest_request, attachments_dir, name, message):
    attachments = encode_attachments(("fine.txt", b"ok"), (name, b"data"))
    assert refusal(open_, guest_request(attachments=attachments)) == message
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert stored_files(attachments_dir) == []


def test_the_always_refused_types_stay_refused_when_configured(open_, guest_request, settings):
    from portal.tickets import open_ticket

    lax = dataclasses.replace(settings, allowed_extensions=frozenset({".php", ".txt"}))
    with pytest.raises(Exception, match="never accepted"):
        open_ticket(
            db.session, guest_request(attachments=encode_attachments(("x.php", b"<?php"))), lax
        )


def test_a_file_over_the_limit_is_refused(open_, guest_request, settings, attachments_dir):
    from portal.tickets import OpenTicketError, open_ticket

    small = dataclasses.replace(settings, max_attachment_bytes=10)
    for request in (
        guest_request(attachments=encode_attachments(("big.txt", b"x" * 11))),
        guest_request(uploads=[IncomingFile("big.txt", io.BytesIO(b"x" * 11))]),
    ):
        with pytest.raises(OpenTicketError) as refused:
            open_ticket(db.session, request, small)
        assert refused.value.message == "The file big.txt is larger than the 10 bytes limit"
    db.session.rollback()
    assert stored_files(attachments_dir) == []


class _UnseekableStream(io.RawIOBase):
    """An upload whose size is only known by reading it."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def read(self, size=-1):
        return self._data.read(size)


def test_a_stream_over_the_limit_is_refused_while_copying(guest_request, settings, attachments_dir):
    from portal.tickets import OpenTicketError, open_ticket

    small = dataclasses.replace(settings, max_attachment_bytes=10)
    uploads = [
        IncomingFile("ok.txt", io.BytesIO(b"fine")),
        IncomingFile("big.txt", _UnseekableStream(b"x" * 11)),
    ]
    with pytest.raises(OpenTicketError) as refused:
        open_ticket(db.session, guest_request(uploads=uploads), small)
    assert "big.txt is larger" in refused.value.message
    assert stored_files(attachments_dir) == []


@pytest.mark.parametrize("payload", ["!!!", "bm90IGpzb24=", "eyJhIjogMX0=", "WzFd"])
def test_undecodable_attachments_are_an_error_not_silently_dropped(open_, guest_request, payload):
    assert refusal(open_, guest_request(attachments=payload)) == errors.ATTACHMENTS_UNDECODABLE


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\notes.txt", "notes.txt"),
        ("bad\x00name\x1f.txt", "badname.txt"),
        ("  spaced.txt ", "spaced.txt"),
        ("cafe\u0301.txt", "café.txt"),
        # At most 255 bytes of UTF-8, the file system's limit, with the extension kept.
        ("n" * 251 + ".txt", "n" * 251 + ".txt"),
        ("n" * 252 + ".txt", "n" * 251 + ".txt"),
        ("é" * 200 + ".pdf", "é" * 125 + ".pdf"),
        ("日本" * 100 + ".pdf", "日本" * 41 + "日.pdf"),
        ("x." + "y" * 300, "x." + "y" * 253),
    ],
)
def test_file_names_are_reduced_to_a_safe_form(given, safe):
    assert safe_name(given) == safe


def test_a_rolled_back_transaction_removes_its_files(guest_request, settings, attachments_dir):
    from portal.tickets import open_ticket

    open_ticket(
        db.session, guest_request(attachments=encode_attachments(("a.txt", b"a"))), settings
    )
    assert len(stored_files(attachments_dir)) == 1
    db.session.rollback()
    assert stored_files(attachments_dir) == []
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


@pytest.mark.parametrize("data", ["!!!", "@@@@", "not base64 at all?"])
def test_attachment_data_that_is_not_base64_is_refused(open_, guest_request, data):
    import base64
    import json

    items = [{"name": "empty.txt", "data": data}]
    encoded = base64.b64encode(json.dumps(items).encode()).decode()
    assert refusal(open_, guest_request(attachments=encoded)) == errors.ATTACHMENTS_UNDECODABLE


def test_base64_with_line_breaks_is_accepted(open_, guest_request):
    import base64
    import json

    wrapped = base64.encodebytes(b"x" * 200).decode()  # MIME style, a line break every 76
    items = [{"name": "wrapped.txt", "data": wrapped}]
    encoded = base64.b64encode(json.dumps(items).encode()).decode()
    assert open_(guest_request(attachments=encoded)).attachments[0].size == 200
