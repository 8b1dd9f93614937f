"""The flask --app portal commands that operators and the README rely on."""

import os
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.api.credentials import secret_matches
from portal.extensions import db
from portal.models import (
    ApiCredential,
    ClientAccount,
    Contact,
    CustomField,
    Department,
    Domain,
    IdempotencyKey,
    Service,
    StaffMember,
    Ticket,
    TicketNote,
    TicketReply,
    User,
    utcnow,
)


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_init_db_is_safe_to_run_twice(cli):
    for _ in range(2):
        result = cli.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_demo_data_is_idempotent_and_prints_how_to_sign_in(cli):
    first = cli.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    counts = {
        model: count(model)
        for model in (
            Department,
            ClientAccount,
            User,
            Contact,
            Service,
            Domain,
            IdempotencyKey,
            StaffMember,
            CustomField,
            Ticket,
            TicketReply,
            TicketNote,
        )
    }
    second = cli.invoke(args=["demo-data"])
    assert second.exit_code == 0
    assert {model: count(model) for model in counts} == counts
    assert "Client login: demo.client@example.com / " in first.output
    assert "Staff login: admin / " in first.output
    assert counts[TicketReply] == 3 and counts[TicketNote] == 1


def test_demo_data_has_what_the_spec_example_needs(cli):
    cli.invoke(args=["demo-data"])
    general = db.session.scalar(select(Department).where(Department.name == "General Support"))
    account = db.session.scalar(select(ClientAccount).order_by(ClientAccount.id))
    assert general is not None and account.owner is not None
    assert account.contacts and account.services and account.domains
    departments = db.session.scalars(select(Department)).all()
    assert any(d.hidden for d in departments)
    assert any(d.clients_only and d.custom_fields for d in departments)
    owner = account.owner
    assert owner.check_password(
        re.search(r"Client login: \S+ / (\S+)", cli.invoke(args=["demo-data"]).output).group(1)
    )


def test_create_staff_with_and_without_a_password(cli):
    result = cli.invoke(args=["create-staff", "alice", "--password", "s3cret-enough"])
    assert result.exit_code == 0, result.output
    alice = db.session.scalar(select(StaffMember).where(StaffMember.username == "alice"))
    assert alice.check_password("s3cret-enough")

    result = cli.invoke(args=["create-staff", "bob"])
    generated = re.search(r"^password: (\S+)$", result.output, re.M).group(1)
    bob = db.session.scalar(select(StaffMember).where(StaffMember.username == "bob"))
    assert bob.check_password(generated)


def test_create_api_credential_prints_exactly_two_lines(cli, make):
    make.staff(username="carol")
    result = cli.invoke(args=["create-api-credential", "carol"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(": ")[0] for line in lines] == ["identifier", "secret"]
    identifier, secret = (line.split(": ", 1)[1] for line in lines)
    credential = db.session.scalar(
        select(ApiCredential).where(ApiCredential.identifier == identifier)
    )
    assert credential.staff.username == "carol"
    assert secret not in credential.secret_sha256
    assert secret_matches(credential.secret_sha256, secret)
    assert len(secret) >= 32  # 256 random bits, URL-safe base64


def test_create_api_credential_for_an_unknown_staff_member(cli):
    result = cli.invoke(args=["create-api-credential", "nobody"])
    assert result.exit_code != 0
    assert "No staff member is called 'nobody'" in result.output


def test_prune_deletes_expired_keys_and_abandoned_drafts(cli, app, tmp_path):
    old = IdempotencyKey(
        scope="client-form", key_sha256="a" * 64, created_at=utcnow() - timedelta(days=2)
    )
    fresh = IdempotencyKey(scope="client-form", key_sha256="b" * 64)
    db.session.add_all([old, fresh])
    db.session.commit()
    held = app.config["HELD_UPLOADS_DIR"]
    # A browser session's directory, with its drafts in it; and one whose only draft is old.
    abandoned = os.path.join(held, "session-one", "abandoned-draft")
    recent = os.path.join(held, "session-one", "recent-draft")
    forgotten = os.path.join(held, "session-two", "forgotten-draft")
    for directory in (abandoned, recent, forgotten):
        os.makedirs(directory)
    two_days_ago = time.time() - 2 * 24 * 3600
    for directory in (abandoned, forgotten):
        os.utime(directory, (two_days_ago, two_days_ago))

    result = cli.invoke(args=["prune"])

    assert result.exit_code == 0, result.output
    assert "Deleted 1 expired submission keys and 2 abandoned held uploads." in result.output
    assert [k.key_sha256 for k in db.session.scalars(select(IdempotencyKey))] == ["b" * 64]
    assert os.listdir(held) == ["session-one"]
    assert os.listdir(os.path.join(held, "session-one")) == ["recent-draft"]
