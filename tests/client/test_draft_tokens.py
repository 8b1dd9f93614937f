"""Draft tokens: each compose form's key to its held files and to its one ticket."""

import os
import time
from pathlib import Path

import pytest

from portal import held_uploads
from portal.held_uploads import new_draft_token, owns_draft


def test_a_token_belongs_to_the_session_that_issued_it():
    session = {}
    token = new_draft_token(session)

    assert owns_draft(session, token)
    assert owns_draft(session, new_draft_token(session))


@pytest.mark.parametrize(
    "other_session",
    [{}, {"draft_key": "another-sessions-key"}],
    ids=["a session without a key", "another session"],
)
def test_a_token_is_not_owned_by_another_session(other_session):
    token = new_draft_token({})

    assert not owns_draft(other_session, token)


def test_a_token_altered_or_missing_is_not_owned():
    session = {}
    token = new_draft_token(session)
    altered = token[:-1] + ("B" if token[-1] == "A" else "A")
    renonced = ("B" if token[0] == "A" else "A") + token[1:]

    assert not owns_draft(session, altered)
    assert not owns_draft(session, renonced)
    assert not owns_draft(session, "")
    assert not owns_draft(session, None)
    assert not owns_draft(session, "../" + token[3:])


def test_showing_the_form_again_leaves_the_session_cookie_as_it_is(client, make):
    department = make.department()
    first = client.get(f"/submitticket?deptid={department.id}")
    again = client.get(f"/submitticket?deptid={department.id}")

    assert "session=" in first.headers.get("Set-Cookie", "")
    assert "Set-Cookie" not in again.headers


def test_submissions_prune_abandoned_drafts_now_and_then_not_each_time(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(held_uploads.time, "monotonic", lambda: clock[0])
    day = 24 * 3600

    def abandoned(name: str) -> Path:
        # One browser session's directory, holding the draft.
        draft = tmp_path / f"session-{name}" / "draft"
        draft.mkdir(parents=True)
        old = time.time() - 2 * day
        os.utime(draft, (old, old))
        return draft

    first = abandoned("first")
    assert held_uploads.prune_expired_now_and_then(tmp_path, day) == 1
    assert not first.exists()

    second = abandoned("second")
    clock[0] += held_uploads.PRUNE_INTERVAL_SECONDS - 1
    assert held_uploads.prune_expired_now_and_then(tmp_path, day) == 0
    assert second.exists()

    clock[0] += 1
    assert held_uploads.prune_expired_now_and_then(tmp_path, day) == 1
    assert not second.exists()
