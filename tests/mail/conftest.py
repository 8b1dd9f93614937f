"""A real SMTP server on loopback, and helpers to open tickets and read what arrived."""

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.mail import relay_of
from portal.models import OutboxMessage
from portal.tickets import OpenTicketRequest, open_ticket


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


class Recorder:
    """An aiosmtpd handler that keeps every message; refuses addresses listed in `refuse`."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.delay = 0.0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            time.sleep(self.delay)  # blocks the server's loop: a slow server, on purpose
        with self._lock:
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                )
            )
        return "250 Message accepted"


class SmtpServer:
    """A loopback SMTP server on a port of its own that tests can stop and start."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        self.controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return list(self.recorder.received)

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, smtp, tmp_path):
    app_config.update(
        {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "MAIL_EML_DIR": str(tmp_path / "mail"),
            "MAIL_TIMEOUT": 5,
            "MAIL_AFTER_COMMIT_TIMEOUT": 2,
            "MAIL_RETRY_DELAYS": "60,300",
            "MAIL_DEFAULT_SENDER": "Portal <portal@portal.test>",
        }
    )
    return app_config


@pytest.fixture
def opened(settings):
    """open_ticket as a door calls it: one transaction, committed."""

    def call(**fields):
        options = {"acting_staff": fields.pop("acting_staff", None)}
        opened = open_ticket(db.session, OpenTicketRequest(**fields), settings, **options)
        db.session.commit()
        return opened

    return call


@pytest.fixture
def delivered(app):
    """Wait for the after-commit delivery of what was committed, then return it."""

    def wait(smtp: SmtpServer) -> list[Received]:
        assert relay_of(app).wait(10)
        return smtp.received

    return wait


def outbox_rows() -> list[OutboxMessage]:
    """The outbox as the database has it now (a new transaction sees other sessions' commits)."""
    db.session.commit()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
