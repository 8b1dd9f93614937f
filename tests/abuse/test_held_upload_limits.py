"""Files held between tries of a form are bounded: per draft, per session, in all, per address.

Whatever is refused is said, next to what the person typed, which is kept.
"""

import re
from pathlib import Path

import pytest

from portal.held_uploads import STORE_FULL, TOO_MANY_HOLDS
from tests.client.conftest import upload

FILE = b"x" * 100


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "HELD_UPLOADS_MAX_FILES_PER_DRAFT": 2,
        "HELD_UPLOADS_MAX_BYTES_PER_SESSION": 350,
        "HELD_UPLOADS_MAX_BYTES_TOTAL": 550,
        "RATELIMIT_HELD_UPLOADS_PER_IP": "5 per minute",
    }


@pytest.fixture
def department(make):
    return make.department()


def preview(browser, department, files, address="198.51.100.1"):
    """Show a new form, then send it back for a preview with these files chosen."""
    page = browser.get(f"/submitticket?deptid={department.id}").text
    draft = re.search(r'name="draft" value="([^"]+)"', page)[1]
    form = {
        "deptid": str(department.id),
        "draft": draft,
        "name": "Gwen Guest",
        "email": "gwen@example.com",
        "subject": "Typed subject",
        "message": "Typed message",
        "action": "preview",
        "attachments": [upload(name, FILE) for name in files],
    }
    return browser.post(
        "/submitticket",
        data=form,
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": address},
    )


def held_bytes(app) -> int:
    root = Path(app.config["HELD_UPLOADS_DIR"])
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def test_a_draft_keeps_at_most_its_number_of_files(app, client, department):
    response = preview(client, department, ["a.txt", "b.txt", "c.txt"])

    assert response.status_code == 200
    assert "The file c.txt was not kept for your next try: a form keeps at most 2 files" in (
        response.text
    )
    assert 'value="Typed subject"' in response.text and "Typed message" in response.text
    assert held_bytes(app) == 200


def test_a_session_keeps_at_most_its_bytes_over_all_its_drafts(app, client, department):
    preview(client, department, ["a.txt", "b.txt"])
    response = preview(client, department, ["c.txt", "d.txt"])

    assert "The file d.txt was not kept for your next try: the files kept for your forms" in (
        response.text
    )
    assert held_bytes(app) == 300


def test_all_drafts_together_keep_at_most_the_total(app, department):
    first, second, third = app.test_client(), app.test_client(), app.test_client()
    preview(first, department, ["a.txt", "b.txt"], address="198.51.100.1")
    preview(second, department, ["c.txt", "d.txt"], address="198.51.100.2")
    response = preview(third, department, ["e.txt", "f.txt"], address="198.51.100.3")

    assert "The file f.txt was not kept" in response.text and STORE_FULL in response.text
    assert "e.txt was not kept" not in response.text
    assert held_bytes(app) == 500


def test_files_held_are_limited_per_address(app, department):
    app.config["HELD_UPLOADS_MAX_BYTES_TOTAL"] = 10_000
    sessions = [app.test_client() for _ in range(3)]
    for browser in sessions[:2]:
        preview(browser, department, ["a.txt", "b.txt"], address="198.51.100.7")
    # The address held 4 files; a fifth is still allowed, the sixth is not.
    refused = preview(sessions[2], department, ["e.txt", "f.txt"], address="198.51.100.7")
    elsewhere = preview(app.test_client(), department, ["g.txt"], address="198.51.100.8")

    assert TOO_MANY_HOLDS in refused.text
    assert "f.txt was not kept" in refused.text and "e.txt was not kept" not in refused.text
    assert "was not kept" not in elsewhere.text
