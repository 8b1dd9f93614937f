"""Delivery of outbox rows: claim due rows, send them over SMTP or write .eml files, record it.

A row is claimed in its own short transaction (status `sending`, a claim token, and a deadline
kept in next_attempt_at), sent, and marked sent in another transaction, one row at a time. So a
row is sent at most once unless a worker dies between sending and recording it: after the claim
deadline the row is claimed again and sent again. Only in that crash window is delivery "at
least once".
"""

import logging
import os
import secrets
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from portal.mail import outbox
from portal.mail.outbox import SKIP_LOCKED_DIALECTS, CannotCompose, MessageSettings
from portal.models import OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)

CLAIMABLE = (OutboxStatus.PENDING, OutboxStatus.SENDING)
# Core statements on the table: the ORM's bulk-update path cost more than the database's work,
# for every message sent after every ticket.
OUTBOX = OutboxMessage.__table__
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
    # For the rows queued without their message, composed at their first delivery.
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
    # The transport could not be reached at all (connection, TLS or login).
    unreachable: bool = False


class TransportDown(Exception):
    """No message can go out through this transport now."""


class PermanentFailure(Exception):
    """The server refused this message for good (a 5xx reply); retrying would not help."""


def deliver_due(
    engine: Engine,
    settings: DeliverySettings,
    *,
    ticket_ids: Sequence[int] | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> DeliveryReport:
    """Claim due rows (only those of `ticket_ids` when given) and deliver them; each state
    change is committed.

    It works in sessions of its own, so nothing a caller has pending is committed with it.
    """
    report = DeliveryReport()
    token = _claim_token()
    claimed = claim(
        engine, token, settings, ticket_ids=ticket_ids, limit=limit or settings.batch_size, now=now
    )
    report.claimed = len(claimed)
    if any(not message.message for message in claimed):
        claimed = _composed(engine, claimed, token, settings, report, now)
    if not claimed:
        return report
    # Stop before the claim deadline: past it another worker may take the row and send it too.
    give_up_at = (now or utcnow()) + timedelta(seconds=settings.claim_timeout * 0.8)
    transport = _transport(settings)
    try:
        with engine.connect() as connection:
            for position, message in enumerate(claimed):
                if (now or utcnow()) > give_up_at:
                    log.warning(
                        "Claim nearly expired; leaving %d messages for the next claim",
                        len(claimed) - position,
                    )
                    break
                try:
                    refused = transport.send(message)
                except TransportDown as error:
                    report.unreachable = True
                    for later in claimed[position:]:
                        _record_failure(connection, later, token, str(error), settings, report, now)
                    break
                except PermanentFailure as error:
                    _record_failure(
                        connection,
                        message,
                        token,
                        str(error),
                        settings,
                        report,
                        now,
                        permanent=True,
                    )
                except OSError as error:  # smtplib's errors are OSErrors too
                    _record_failure(
                        connection, message, token, _describe(error), settings, report, now
                    )
                else:
                    _record_sent(connection, message.id, token, refused, now)
                    report.sent += 1
    finally:
        transport.close()
    return report


def _composed(
    engine: Engine,
    claimed: list["ClaimedMessage"],
    token: str,
    settings: DeliverySettings,
    report: DeliveryReport,
    now: datetime | None,
) -> list["ClaimedMessage"]:
    """Compose the claimed rows queued without a message and store them before any is sent."""
    ready = []
    with Session(engine) as session:
        for message in claimed:
            if message.message:
                ready.append(message)
                continue
            try:
                composed = outbox.compose(session, message.id, settings.messages)
            except CannotCompose as error:
                _record_failure(
                    session, message, token, str(error), settings, report, now, permanent=True
                )
                continue
            # Stored under the claim: a retry sends these bytes, not a second composition.
            session.execute(
                _STORE_COMPOSED,
                {
                    "message_id": message.id,
                    "token": token,
                    "sender": composed.sender,
                    "recipients": composed.recipients,
                    "cc": composed.cc,
                    "message": composed.message,
                },
            )
            ready.append(
                replace(
                    message,
                    sender=composed.sender,
                    recipients=tuple(_split(composed.recipients, composed.cc)),
                    message=composed.message,
                )
            )
        # One commit for the batch, before anything is sent.
        session.commit()
    return ready


_STORE_COMPOSED = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("message_id"), OUTBOX.c.claimed_by == bindparam("token"))
    .values(
        sender=bindparam("sender"),
        recipients=bindparam("recipients"),
        cc=bindparam("cc"),
        message=bindparam("message"),
    )
)


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    attempts: int
    sender: str
    recipients: tuple[str, ...]
    message: str
    file_name: str


def claim(
    engine: Engine,
    token: str,
    settings: DeliverySettings,
    *,
    ticket_ids: Sequence[int] | None = None,
    limit: int = 20,
    now: datetime | None = None,
) -> list[ClaimedMessage]:
    """Mark up to `limit` due rows as `sending` under `token`, commit, and return them.

    Tickets whose mail still waits in their row get their outbox rows first, in the same
    transaction, so that a claim never misses a committed ticket's mail.
    """
    now = now or utcnow()
    columns = OUTBOX.c
    due = [columns.status.in_(CLAIMABLE), columns.next_attempt_at <= now]
    if ticket_ids is not None:
        if not ticket_ids:
            return []
        due.append(columns.ticket_id.in_(list(ticket_ids)))
    claim_values = {
        "status": OutboxStatus.SENDING,
        "claimed_by": token,
        "claimed_at": now,
        "next_attempt_at": now + timedelta(seconds=settings.claim_timeout),
        "attempts": columns.attempts + 1,
    }
    with engine.connect() as connection:
        dialect = engine.dialect.name
        if dialect in ("mysql", "mariadb"):
            # REPEATABLE READ would add gap locks to the scans, holding up the INSERTs of
            # tickets being opened until the claim commits.
            connection.execution_options(isolation_level="READ COMMITTED")
        outbox.release_queued(connection, ticket_ids=ticket_ids, limit=limit, now=now)
        if dialect in SKIP_LOCKED_DIALECTS:
            chosen = list(
                connection.scalars(
                    select(columns.id)
                    .where(*due)
                    .order_by(columns.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if chosen:
                connection.execute(
                    update(OUTBOX).where(columns.id.in_(chosen)).values(claim_values)
                )
        else:
            # SQLite has one writer at a time: the conditional UPDATE is the lock.
            candidates = (
                select(columns.id).where(*due).order_by(columns.id).limit(limit).scalar_subquery()
            )
            connection.execute(
                update(OUTBOX).where(columns.id.in_(candidates), *due).values(claim_values)
            )
        rows = connection.execute(
            select(
                columns.id,
                columns.attempts,
                columns.sender,
                columns.recipients,
                columns.cc,
                columns.message,
                columns.kind,
                columns.created_at,
            )
            .where(columns.claimed_by == token, columns.status == OutboxStatus.SENDING)
            .order_by(columns.id)
        ).all()
        connection.commit()
    return [
        ClaimedMessage(
            id=row.id,
            attempts=row.attempts,
            sender=row.sender,
            recipients=tuple(_split(row.recipients, row.cc)),
            message=row.message,
            file_name=f"{row.created_at:%Y%m%d-%H%M%S}-{row.id:06d}-{row.kind}.eml",
        )
        for row in rows
    ]


def _record_sent(
    session: Session | Connection,
    message_id: int,
    token: str,
    refused: Mapping,
    now: datetime | None,
) -> None:
    values = {"status": OutboxStatus.SENT, "sent_at": now or utcnow()}
    if refused:
        values["last_error"] = _limit(
            "Refused recipients: "
            + "; ".join(
                f"{address}: {code} {_text(reply)}" for address, (code, reply) in refused.items()
            )
        )
    _finish(session, message_id, token, values)


def _record_failure(
    session: Session | Connection,
    message: ClaimedMessage,
    token: str,
    error: str,
    settings: DeliverySettings,
    report: DeliveryReport,
    now: datetime | None,
    *,
    permanent: bool = False,
) -> None:
    message_id, attempts = message.id, message.attempts
    now = now or utcnow()
    if permanent or attempts >= settings.max_attempts:
        values = {"status": OutboxStatus.FAILED}
        report.failed += 1
        log.error(
            "Giving up on outbox message %s after %d attempts: %s", message_id, attempts, error
        )
    else:
        delay = settings.retry_delays[max(0, attempts - 1)]
        values = {"status": OutboxStatus.PENDING, "next_attempt_at": now + timedelta(seconds=delay)}
        report.retrying += 1
        log.warning(
            "Outbox message %s not sent (attempt %d), retrying in %ss: %s",
            message_id,
            attempts,
            delay,
            error,
        )
    values["last_error"] = _limit(error)
    _finish(session, message_id, token, values)


def _finish(session: Session | Connection, message_id: int, token: str, values: dict) -> None:
    # The token condition keeps a slow worker from overwriting a row another worker reclaimed.
    columns = OUTBOX.c
    result = session.execute(
        update(OUTBOX)
        .where(
            columns.id == message_id,
            columns.claimed_by == token,
            columns.status == OutboxStatus.SENDING,
        )
        .values(values)
    )
    session.commit()
    if result.rowcount == 0:
        log.warning("Outbox message %s was reclaimed before its result was recorded", message_id)


class _SmtpTransport:
    """One SMTP connection for a batch, opened at the first message."""

    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def send(self, message: ClaimedMessage) -> dict:
        connection = self.connection or self._connect()
        data = message.message.encode("utf-8")
        options = [] if data.isascii() else ["SMTPUTF8", "BODY=8BITMIME"]
        try:
            return connection.sendmail(
                message.sender, list(message.recipients), data, mail_options=options
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

    def send(self, message: ClaimedMessage) -> dict:
        if not self._made:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._made = True
        # A complete file or none: write beside it, then rename. A reclaimed row rewrites the
        # same name, so a crash cannot leave two copies.
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(message.message.encode("utf-8"))
            os.replace(temporary, self.directory / message.file_name)
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


def _split(*lists: str) -> Iterable[str]:
    """Envelope recipients, each once: a contact is both the requester and in CC."""
    seen = set()
    for text in lists:
        for address in (a.strip() for a in (text or "").split(",")):
            if address and address.lower() not in seen:
                seen.add(address.lower())
                yield address


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


def _delays(value: object) -> tuple[float, ...]:
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").split(",") if part.strip()]
    return tuple(float(delay) for delay in value or ())
