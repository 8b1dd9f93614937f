"""Delivery: a server that is down or hangs, retries, giving up, claims and concurrent workers."""

import socket
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.mail import (
    DeliverySettings,
    deliver_due,
    failed_messages,
    register_mail,
    relay_of,
    retry_message,
)
from portal.mail.delivery import claim, claiming_session, record
from portal.models import OutboxMessage, OutboxStatus, Ticket, utcnow
from tests.mail.conftest import outbox_rows


@pytest.fixture
def app_config(app_config):
    # These tests drive delivery themselves; the after-commit attempt has its own tests.
    app_config["MAIL_DELIVER_AFTER_COMMIT"] = False
    return app_config


@pytest.fixture
def delivery(app) -> DeliverySettings:
    return DeliverySettings.from_config(app.config)


def open_tickets(make, opened, count: int) -> list:
    department = make.department()
    return [
        opened(
            deptid=department.id,
            subject=f"Ticket {n}",
            message="Help",
            name="Gus Guest",
            email=f"gus{n}@example.com",
        )
        for n in range(count)
    ]


def message_ids(received) -> Counter:
    return Counter(r.message["Message-ID"] for r in received)


def test_server_down_while_tickets_open_then_up_delivers_each_message_once(
    app, make, opened, smtp, delivered
):
    relay_of(app).enabled = True  # the after-commit attempt meets the dead server
    smtp.stop()

    tickets = open_tickets(make, opened, 5)
    delivered(smtp)

    rows = outbox_rows()
    # Every ticket's rows were written with it. The relay met the dead server and backs off:
    # what it did not try waits, untried, for the worker.
    assert {r.ticket_id for r in rows} == {ticket.id for ticket in tickets}
    assert len(rows) == 2 * len(tickets)
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert any("unavailable" in r.last_error for r in rows)
    assert db.session.scalar(select(Ticket.id).where(Ticket.id == tickets[-1].id))

    smtp.start()
    settings = DeliverySettings.from_config(app.config)
    later = utcnow() + timedelta(minutes=2)  # past the first retry delay
    report = deliver_due(db.engine, settings, now=later)
    assert (report.sent, report.retrying, report.failed) == (10, 0, 0)
    assert deliver_due(db.engine, settings, now=later).claimed == 0

    counts = message_ids(smtp.received)
    assert len(counts) == 10 and set(counts.values()) == {1}
    assert {r.status for r in outbox_rows()} == {OutboxStatus.SENT}


def test_a_hanging_server_does_not_slow_ticket_creation(app, make, opened, delivered):
    with socket.socket() as silent:  # accepts connections and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        app.config["MAIL_PORT"] = silent.getsockname()[1]
        app.config["MAIL_DELIVER_AFTER_COMMIT"] = True
        register_mail(app)
        assert relay_of(app).settings.timeout == 2
        department = make.department()

        ticket = opened(
            deptid=department.id,
            subject="Slow",
            message="Help",
            name="Gus",
            email="gus@example.com",
        )
        # The ticket is committed and returned while the attempt still waits on the server.
        in_flight = not relay_of(app).wait(0)
        assert relay_of(app).wait(10)

    assert in_flight
    assert ticket.id
    rows = outbox_rows()
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert all(r.attempts == 1 and "timed out" in r.last_error for r in rows)


def test_retries_wait_growing_delays_then_fail_and_show_to_staff(app, make, opened, smtp, delivery):
    department = make.department(email="")
    ticket = opened(
        deptid=department.id, subject="Retry", message="Help", name="Gus", email="gus@example.com"
    )
    smtp.stop()
    start = utcnow()

    def attempt(seconds: float):
        return deliver_due(db.engine, delivery, now=start + timedelta(seconds=seconds))

    assert attempt(0).retrying == 1
    assert attempt(59).claimed == 0
    assert attempt(61).retrying == 1
    assert attempt(61 + 299).claimed == 0
    assert attempt(61 + 301).failed == 1
    assert attempt(100_000).claimed == 0

    [row] = failed_messages(db.session)
    assert (row.ticket.tid, row.attempts, row.status) == (ticket.tid, 3, OutboxStatus.FAILED)
    assert "unavailable" in row.last_error

    smtp.start()
    retry_message(row)
    db.session.commit()
    assert deliver_due(db.engine, delivery).sent == 1
    assert failed_messages(db.session) == []
    assert [r.rcpt_tos for r in smtp.received] == [["gus@example.com"]]


def test_a_permanent_refusal_fails_at_once(app, make, opened, smtp, delivery):
    smtp.recorder.refuse.add("nobody@example.com")
    department = make.department(email="")
    opened(
        deptid=department.id,
        subject="Bounce",
        message="Help",
        name="Nobody",
        email="nobody@example.com",
    )

    report = deliver_due(db.engine, delivery)

    assert report.failed == 1
    [row] = outbox_rows()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert "550" in row.last_error
    assert smtp.received == []


def test_an_abandoned_claim_is_taken_again_after_the_timeout(app, make, opened, smtp, delivery):
    department = make.department(email="")
    opened(
        deptid=department.id, subject="Crash", message="Help", name="Gus", email="gus@example.com"
    )
    start = utcnow()
    # A worker claims the message and dies before sending it.
    with claiming_session(db.engine) as crashed:
        assert len(claim(crashed, "crashed-worker", delivery, now=start)) == 1

    assert deliver_due(db.engine, delivery, now=start + timedelta(seconds=60)).claimed == 0
    later = start + timedelta(seconds=delivery.claim_timeout + 1)
    assert deliver_due(db.engine, delivery, now=later).sent == 1
    assert len(smtp.received) == 1
    [row] = outbox_rows()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)


def test_a_late_result_does_not_overwrite_a_newer_claim(app, make, opened, delivery):
    department = make.department(email="")
    opened(
        deptid=department.id, subject="Late", message="Help", name="Gus", email="gus@example.com"
    )
    start = utcnow()
    with claiming_session(db.engine) as first, claiming_session(db.engine) as second:
        [message] = claim(first, "first", delivery, now=start)
        later = start + timedelta(seconds=delivery.claim_timeout + 1)
        assert len(claim(second, "second", delivery, now=later)) == 1
        record(first, "first", [(message.id, {"status": OutboxStatus.SENT})])

    [row] = outbox_rows()
    assert (row.status, row.claimed_by) == (OutboxStatus.SENDING, "second")


def test_two_concurrent_workers_send_each_message_once(app, make, opened, smtp, delivery):
    tickets = open_tickets(make, opened, 20)
    smtp.recorder.delay = 0.005  # long enough for the workers' batches to overlap
    small_batches = DeliverySettings(**{**delivery.__dict__, "batch_size": 3})
    start = threading.Barrier(2)
    sent_by: dict[str, int] = {}
    errors: list[BaseException] = []

    engine = db.engine

    def worker(name: str) -> None:
        try:
            start.wait()
            total = 0
            # Each call claims and records through connections of its own from the pool.
            while (report := deliver_due(engine, small_batches)).claimed:
                total += report.sent
            sent_by[name] = total
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    counts = message_ids(smtp.received)
    assert len(counts) == 2 * len(tickets)
    assert set(counts.values()) == {1}
    assert sent_by["a"] + sent_by["b"] == 2 * len(tickets)
    assert sent_by["a"] > 0 and sent_by["b"] > 0
    assert {r.status for r in outbox_rows()} == {OutboxStatus.SENT}


def test_skip_locked_claims_around_rows_another_worker_holds(app, make, opened, delivery):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no row locks; its claim is a single conditional UPDATE")
    open_tickets(make, opened, 2)
    first_id = min(r.id for r in outbox_rows())
    db.session.commit()
    with Session(db.engine) as holder:
        # Another worker is in the middle of claiming the first row.
        holder.execute(
            select(OutboxMessage.id).where(OutboxMessage.id == first_id).with_for_update()
        )
        with claiming_session(db.engine) as second:
            claimed = claim(second, "second", delivery, limit=10)
        holder.rollback()

    assert first_id not in [m.id for m in claimed]
    assert len(claimed) == 3


def test_send_mail_command_writes_eml_files_without_a_server(app, make, opened, tmp_path):
    app.config["MAIL_SERVER"] = ""
    department = make.department()
    opened(
        deptid=department.id, subject="File", message="Help", name="Gus", email="gus@example.com"
    )

    result = app.test_cli_runner().invoke(args=["send-mail"])

    assert result.exit_code == 0, result.output
    assert "Sent 2, to retry 0, failed 0" in result.output
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    assert all(b"\r\nSubject: [Ticket ID: " in f.read_bytes() for f in files)
    db.session.execute(update(OutboxMessage).values(status=OutboxStatus.PENDING))
    db.session.commit()
    # A message sent again (a reclaimed row) replaces its file instead of adding one.
    assert app.test_cli_runner().invoke(args=["send-mail"]).exit_code == 0
    assert sorted((tmp_path / "mail").glob("*.eml")) == files
