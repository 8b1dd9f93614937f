"""The disk or the database failing mid-request: no ticket, no orphan file, a clear error."""

import errno
import io
import logging
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.saving import SAVE_FAILED
from portal.tickets import OpenTicketRequest, attachments, open_ticket
from tests.security.conftest import answer, attachment_count, files_under, ticket_count

FILES = (("first.txt", b"first file " * 100), ("second.txt", b"second file " * 100))


def uploads() -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data), name) for name, data in FILES]


class FailingWrites:
    """open() for the attachment store whose second file fails halfway through its first write."""

    def __init__(self):
        self.files_opened = 0

    def __call__(self, path, mode="r", *args, **kwargs):
        handle = open(path, mode, *args, **kwargs)  # noqa: SIM115 - returned to a with block
        self.files_opened += 1
        if self.files_opened == 2:
            return DiskFullAfterHalf(handle)
        return handle


class DiskFullAfterHalf:
    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.handle.close()

    def write(self, data: bytes) -> int:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def disk_fills_up(monkeypatch):
    failing = FailingWrites()
    monkeypatch.setattr(attachments, "open", failing, raising=False)
    return failing


@pytest.fixture
def database_goes_away(monkeypatch):
    def commit():
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    # The session requests use: the test's app context is theirs too.
    monkeypatch.setattr(db.session(), "commit", commit)
    return monkeypatch


FAULTS = ("disk_fills_up", "database_goes_away")


def guest_fields(department) -> dict:
    return {
        "deptid": str(department.id),
        "subject": "Printer on fire",
        "message": "It is **really** on fire.",
        "name": "Gina Guest",
        "email": "gina@example.com",
    }


def assert_nothing_kept(app) -> None:
    assert ticket_count() == 0
    assert attachment_count() == 0
    assert files_under(app.config["ATTACHMENTS_DIR"]) == []


def held_names(app) -> list[str]:
    return sorted(p.name for p in files_under(app.config["HELD_UPLOADS_DIR"]))


def draft_of(page: str) -> str:
    start = page.index('name="draft" value="') + len('name="draft" value="')
    return page[start : page.index('"', start)]


@pytest.mark.parametrize("fault", FAULTS)
def test_the_client_form_keeps_what_was_typed_and_the_files(
    app, client, department, request, fault, caplog
):
    fields = guest_fields(department)
    monkeypatch = request.getfixturevalue(fault)
    if fault == "disk_fills_up":
        caplog.set_level(logging.ERROR)

    failed = client.post("/submitticket", data={**fields, "attachments": uploads()})

    assert failed.status_code == 503
    assert SAVE_FAILED in failed.text
    assert "Printer on fire" in failed.text and "It is **really** on fire." in failed.text
    assert 'value="Gina Guest"' in failed.text and 'value="gina@example.com"' in failed.text
    assert "first.txt" in failed.text and "second.txt" in failed.text
    assert_nothing_kept(app)
    assert held_names(app) == ["first.txt", "second.txt"]
    assert any(r.message.startswith("Saving failed") for r in caplog.records)

    undo(request, fault)
    again = client.post("/submitticket", data={**fields, "draft": draft_of(failed.text)})

    assert again.status_code == 303
    assert ticket_count() == 1 and attachment_count() == 2
    assert len(files_under(app.config["ATTACHMENTS_DIR"])) == 2
    assert held_names(app) == []
    del monkeypatch


def undo(request, fault: str) -> None:
    """Take the fault away, as a recovered disk or database would."""
    request.getfixturevalue("monkeypatch").undo()


@pytest.mark.parametrize("fault", FAULTS)
def test_the_staff_form_keeps_what_was_typed_and_the_files(
    app, staff_client, department, request, fault
):
    fields = {**guest_fields(department), "action": "open"}
    request.getfixturevalue(fault)

    failed = staff_client.post("/staff/tickets/new", data={**fields, "attachments": uploads()})

    assert failed.status_code == 503
    assert SAVE_FAILED in failed.text
    assert "Printer on fire" in failed.text and "It is **really** on fire." in failed.text
    assert 'value="Gina Guest"' in failed.text
    assert "first.txt" in failed.text and "second.txt" in failed.text
    assert_nothing_kept(app)
    assert held_names(app) == ["first.txt", "second.txt"]

    undo(request, fault)
    again = staff_client.post("/staff/tickets/new", data={**fields, "draft": draft_of(failed.text)})

    assert again.status_code == 303
    assert ticket_count() == 1 and attachment_count() == 2
    assert held_names(app) == []


@pytest.mark.parametrize("fault", FAULTS)
def test_the_api_answers_a_whmcs_error_and_keeps_nothing(app, call_api, department, request, fault):
    request.getfixturevalue(fault)

    response = call_api({**guest_fields(department), "attachments[]": uploads()})

    assert response.status_code == 503
    assert answer(response) == {"result": "error", "message": SAVE_FAILED}
    assert_nothing_kept(app)


def test_a_half_written_file_is_removed_even_when_the_rollback_fails(
    app, call_api, department, disk_fills_up, monkeypatch
):
    def rollback():
        raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))

    monkeypatch.setattr(db.session(), "rollback", rollback)

    response = call_api({**guest_fields(department), "attachments[]": uploads()})

    assert response.status_code == 503
    assert files_under(Path(app.config["ATTACHMENTS_DIR"])) == []
    monkeypatch.undo()
    assert_nothing_kept(app)


def test_a_ticket_rolled_back_after_numbering_leaves_no_row(app, department, settings):
    # On SQLite the savepoint of numbering once began the transaction, and releasing it committed.
    open_ticket(db.session, OpenTicketRequest(**guest_fields(department)), settings)

    db.session.rollback()

    assert ticket_count() == 0
