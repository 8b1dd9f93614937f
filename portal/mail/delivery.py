"""Delivery of outbox rows in batches: claim due rows, compose, send, record, commit.

A batch is claimed in one short transaction (status `sending`, a claim token, and a deadline
kept in next_attempt_at). Its messages are then composed where they have not been yet, sent
over SMTP or written as .eml files, and every result (with the composed message) is recorded
in a second transaction: two commits a batch, whatever its size. A row is sent at most once
unless a worker dies between sending and recording: after the claim deadline it is claimed and
sent again, with the same Message-ID. Only in that crash window is delivery "at least once".
"""

import logging
import os
import secrets
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, joinedload

from portal.mail import outbox
from portal.mail.outbox import CannotCompose, MessageSettings
from portal.models import OutboxMessage, OutboxStatus, Ticket, utcnow

log = logging.getLogger(__name__)

CLAIMABLE = (OutboxStatus.PENDING, OutboxStatus.SENDING)
# Databases with row locks and SKIP LOCKED: concurrent senders pass over each other's rows.
SKIP_LOCKED_DIALECTS = frozenset({"postgresql", "mysql", "mariadb"})
MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class DeliverySettings:
    server: str = ""
    port: int = 25
    use_starttls: bool = False
    use_tls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30
    eml_dir: Path = Path("instance/mail")
    retry_delays: tuple[float, ...] = (60, 300, 900, 3600, 14400, 43200)
    claim_timeout: float = 900
    batch_size: int = 20
    messages: MessageSettings = field(default_factory=MessageSettings)

    @classmethod
    def from_config(cls, config: Mapping) -> "DeliverySettings":
        use_tls = _flag(config.get("MAIL_USE_TLS"))
        use_starttls = _flag(config.get("MAIL_USE_STARTTLS"))
        port = config.get("MAIL_PORT") or (465 if use_tls else 587 if use_starttls else 25)
        return cls(
            server=(config.get("MAIL_SERVER") or "").strip(),
            port=int(port),
            use_starttls=use_starttls,
            use_tls=use_tls,
            username=config.get("MAIL_USERNAME") or "",
            password=config.get("MAIL_PASSWORD") or "",
            timeout=float(config.get("MAIL_TIMEOUT", cls.timeout)),
            eml_dir=Path(config.get("MAIL_EML_DIR") or cls.eml_dir),
            retry_delays=_delays(config.get("MAIL_RETRY_DELAYS", cls.retry_delays)),
            claim_timeout=float(config.get("MAIL_CLAIM_TIMEOUT", cls.claim_timeout)),
            batch_size=max(1, int(config.get("MAIL_BATCH_SIZE", cls.batch_size))),
            messages=MessageSettings.from_config(config),
        )

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.retry_delays)


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # The transport could not be reached at all (connection, TLS or login), and why.
    unreachable: bool = False
    last_error: str = ""


class TransportDown(Exception):
    """No message can go out through this transport now."""


class PermanentFailure(Exception):
    """The server refused this message for good (a 5xx reply); retrying would not help."""


def deliver_due(
    engine: Engine,
    settings: DeliverySettings,
    *,
    limit: int | None = None,
    now: datetime | None = None,
) -> DeliveryReport:
    """Claim up to a batch of due rows and deliver them, in a session of its own.

    Nothing a caller has pending is committed with it.
    """
    report = DeliveryReport()
    token = _claim_token()
    with claiming_session(engine) as session:
        claimed = claim(session, token, settings, limit=limit or settings.batch_size, now=now)
        report.claimed = len(claimed)
        if not claimed:
            return report
        results: list[tuple[int, dict]] = []
        # Stop before the claim deadline: past it another worker may take a row and send it too.
        give_up_at = (now or utcnow()) + timedelta(seconds=settings.claim_timeout * 0.8)
        transport = _transport(settings)
        try:
            for position, row in enumerate(claimed):
                if (now or utcnow()) > give_up_at:
                    log.warning(
                        "Claim nearly expired; leaving %d messages for the next claim",
                        len(claimed) - position,
                    )
                    break
                results.append((row.id, _deliver(transport, row, settings, report, now)))
                if report.unreachable:
                    # The transport is down: the rest of the batch waits for a retry too.
                    results += [
                        (later.id, _failure(later, report.last_error, settings, report, now))
                        for later in claimed[position + 1 :]
                    ]
                    break
        finally:
            transport.close()
            record(session, token, results)
    return report


def _deliver(
    transport: "_SmtpTransport | _EmlTransport",
    row: OutboxMessage,
    settings: DeliverySettings,
    report: DeliveryReport,
    now: datetime | None,
) -> dict:
    """Compose the row unless it was already, send it; the values that record how it went."""
    composed = {}
    if not row.message:
        try:
            message = outbox.compose(row, settings.messages)
        except CannotCompose as error:
            return _failure(row, str(error), settings, report, now, permanent=True)
        composed = {
            "sender": message.sender,
            "recipients": message.recipients,
            "cc": message.cc,
            "message": message.message,
        }
        row.sender, row.recipients, row.cc = message.sender, message.recipients, message.cc
        row.message = message.message
    try:
        refused = transport.send(row)
    except TransportDown as error:
        report.unreachable = True
        report.last_error = str(error)
        return composed | _failure(row, str(error), settings, report, now)
    except PermanentFailure as error:
        return composed | _failure(row, str(error), settings, report, now, permanent=True)
    except OSError as error:  # smtplib's errors are OSErrors too
        return composed | _failure(row, _describe(error), settings, report, now)
    report.sent += 1
    return composed | _sent(refused, now)


def record(session: Session, token: str, results: list[tuple[int, dict]]) -> None:
    """Write each row's result and commit them together.

    The token condition keeps a slow worker from overwriting a row another worker reclaimed.
    """
    for message_id, values in results:
        written = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.claimed_by == token,
                OutboxMessage.status == OutboxStatus.SENDING,
            )
            .values(values)
            .execution_options(synchronize_session=False)
        )
        if written.rowcount == 0:  # type: ignore[attr-defined]
            log.warning(
                "Outbox message %s was reclaimed before its result was recorded", message_id
            )
    session.commit()


def claim(
    session: Session,
    token: str,
    settings: DeliverySettings,
    *,
    limit: int = 20,
    now: datetime | None = None,
) -> list[OutboxMessage]:
    """Mark up to `limit` due rows as `sending` under `token`, commit, and return them."""
    now = now or utcnow()
    due = (OutboxMessage.status.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now)
    oldest_due = select(OutboxMessage.id).where(*due).order_by(OutboxMessage.id).limit(limit)
    if session.get_bind().dialect.name in SKIP_LOCKED_DIALECTS:
        # The rows are locked by this transaction and due: the UPDATE names them by key alone,
        # so that it reads no index range another sender holds a row of.
        chosen = list(session.scalars(oldest_due.with_for_update(skip_locked=True)))
        condition: list[ColumnElement[bool]] = [OutboxMessage.id.in_(chosen)]
    else:
        # SQLite has one writer at a time: the conditional UPDATE is the lock.
        condition = [OutboxMessage.id.in_(oldest_due.scalar_subquery()), *due]
    session.execute(
        update(OutboxMessage)
        .where(*condition)
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=token,
            claimed_at=now,
            next_attempt_at=now + timedelta(seconds=settings.claim_timeout),
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.claimed_by == token, OutboxMessage.status == OutboxStatus.SENDING)
            .options(
                joinedload(OutboxMessage.ticket).joinedload(Ticket.department),
                joinedload(OutboxMessage.ticket).joinedload(Ticket.opened_by),
            )
            .order_by(OutboxMessage.id)
        )
    )


def claiming_session(engine: Engine) -> Session:
    """A session for claiming and recording: READ COMMITTED on MariaDB.

    REPEATABLE READ would add gap locks to the claim's scan, holding up the INSERTs of tickets
    being opened, and other senders' claims, until the claim commits.
    """
    if engine.dialect.name in ("mysql", "mariadb"):
        return Session(engine.execution_options(isolation_level="READ COMMITTED"))
    return Session(engine)


def _sent(refused: Mapping, now: datetime | None) -> dict:
    values: dict = {"status": OutboxStatus.SENT, "sent_at": now or utcnow()}
    if refused:
        values["last_error"] = _limit(
            "Refused recipients: "
            + "; ".join(
                f"{address}: {code} {_text(reply)}" for address, (code, reply) in refused.items()
            )
        )
    return values


def _failure(
    row: OutboxMessage,
    error: str,
    settings: DeliverySettings,
    report: DeliveryReport,
    now: datetime | None,
    *,
    permanent: bool = False,
) -> dict:
    now = now or utcnow()
    values: dict = {"last_error": _limit(error)}
    if permanent or row.attempts >= settings.max_attempts:
        values["status"] = OutboxStatus.FAILED
        report.failed += 1
        log.error(
            "Giving up on outbox message %s after %d attempts: %s", row.id, row.attempts, error
        )
    else:
        delay = settings.retry_delays[max(0, row.attempts - 1)]
        values["status"] = OutboxStatus.PENDING
        values["next_attempt_at"] = now + timedelta(seconds=delay)
        report.retrying += 1
        log.warning(
            "Outbox message %s not sent (attempt %d), retrying in %ss: %s",
            row.id,
            row.attempts,
            delay,
            error,
        )
    return values


class _SmtpTransport:
    """One SMTP connection for a batch, opened at the first message."""

    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def send(self, message: OutboxMessage) -> dict:
        connection = self.connection or self._connect()
        data = message.message.encode("utf-8")
        options = [] if data.isascii() else ["SMTPUTF8", "BODY=8BITMIME"]
        try:
            return connection.sendmail(
                message.sender, envelope_recipients(message), data, mail_options=options
            )
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(_describe(error)) from error
            raise
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            if error.smtp_code >= 500:
                raise PermanentFailure(_describe(error)) from error
            self._reset()
            raise
        except OSError:
            # Disconnected or timed out: the next message opens a new connection.
            self._drop()
            raise

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        try:
            if settings.use_tls:
                connection = smtplib.SMTP_SSL(
                    settings.server, settings.port, timeout=settings.timeout, context=context
                )
            else:
                connection = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
            try:
                if settings.use_starttls and not settings.use_tls:
                    connection.starttls(context=context)
                if settings.username:
                    connection.login(settings.username, settings.password)
            except BaseException:
                connection.close()
                raise
        except OSError as error:
            raise TransportDown(
                f"SMTP server {settings.server}:{settings.port} unavailable: {_describe(error)}"
            ) from error
        self.connection = connection
        return connection

    def _reset(self) -> None:
        try:
            if self.connection is not None:
                self.connection.rset()
        except OSError:
            self._drop()

    def _drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except OSError:
            connection.close()


class _EmlTransport:
    """The embedded default: each message becomes a file an operator can open in a mail client."""

    def __init__(self, settings: DeliverySettings) -> None:
        self.directory = settings.eml_dir
        self._made = False

    def send(self, message: OutboxMessage) -> dict:
        if not self._made:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._made = True
        # A complete file or none: write beside it, then rename.
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(message.message.encode("utf-8"))
            os.replace(temporary, self.directory / eml_file_name(message))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return {}

    def close(self) -> None:
        pass


def _transport(settings: DeliverySettings) -> "_SmtpTransport | _EmlTransport":
    return _SmtpTransport(settings) if settings.server else _EmlTransport(settings)


def _claim_token() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(6)}"


def envelope_recipients(message: OutboxMessage) -> list[str]:
    """To and Cc, each address once: a contact is both the requester and in CC."""
    seen: dict[str, str] = {}
    for text in (message.recipients, message.cc):
        for address in (a.strip() for a in (text or "").split(",")):
            if address:
                seen.setdefault(address.lower(), address)
    return list(seen.values())


def eml_file_name(message: OutboxMessage) -> str:
    # A reclaimed row rewrites the same name, so a crash cannot leave two copies.
    return f"{message.created_at:%Y%m%d-%H%M%S}-{message.id:06d}-{message.kind}.eml"


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "Recipients refused: " + "; ".join(
            f"{address}: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
    return f"{type(error).__name__}: {error}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _limit(text: str) -> str:
    return text[:MAX_ERROR_LENGTH]


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _delays(value: str | Iterable[float] | None) -> tuple[float, ...]:
    if isinstance(value, str):
        value = [float(part) for part in value.replace(";", ",").split(",") if part.strip()]
    return tuple(float(delay) for delay in value or ())
