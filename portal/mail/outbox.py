"""Ticket email: queued with the ticket that causes it, composed at its first delivery.

The ticket's own row says which messages it needs (`Ticket.mail_queued`), so that the email is
committed or rolled back with the ticket and costs the request no statement of its own: outbox
rows written in the request held SQLite's single write lock for twice as long
(bench/README.md). Whoever delivers first (the after-commit relay or `send-mail`) writes one
outbox row per message, clearing the mark in the same transaction, then renders the message and
stores its bytes in the row before sending; every retry then sends exactly those bytes, with
the same Message-ID, and staff can inspect them. A row whose message cannot be composed is
marked failed with the reason, as a refused one is. The Date header is the time the row was
written, which the after-commit relay does right after the ticket's commit.
"""

import email.contentmanager
import email.policy
import logging
import random
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Update, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, joinedload

from portal.models import OutboxMessage, OutboxStatus, Ticket, utcnow
from portal.rendering import render_message

if TYPE_CHECKING:  # portal.tickets imports this module
    from portal.tickets.departments import DepartmentRules

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "email"
# Sessions remember the tickets whose mail they queued, so that the after-commit delivery knows
# which tickets to release and try.
QUEUED_KEY = "portal_mail_queued"
# The most rows one ticket queues: the requester's message and the department's notice.
MESSAGES_PER_TICKET = 2
OUTBOX = OutboxMessage.__table__
TICKETS = Ticket.__table__
# Databases with row locks and SKIP LOCKED: concurrent senders pass over each other's rows.
SKIP_LOCKED_DIALECTS = frozenset({"postgresql", "mysql", "mariadb"})
INSERT_OUTBOX = insert(OUTBOX)
UTC_ZONE = ZoneInfo("UTC")

# 7bit: an all-ASCII message passes any relay; non-ASCII bodies become quoted-printable or base64.
ASCII_POLICY = email.policy.SMTP.clone(cte_type="7bit")
# Only for addresses whose local part is not ASCII; delivery then asks the server for SMTPUTF8.
UTF8_POLICY = ASCII_POLICY.clone(utf8=True)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Header values that the email package writes back unchanged on one line: printable ASCII
# words with single spaces, no encoded-word opener, a display name of letters and digits, and
# a dot-atom address. Anything else goes through EmailMessage.
_PLAIN_VALUE = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Kind:
    """What an outbox row is; stored in OutboxMessage.kind."""

    TICKET_OPENED = "ticket_opened"
    TICKET_OPENED_BY_ADMIN = "ticket_opened_by_admin"
    NEW_TICKET_NOTICE = "new_ticket_notice"


KIND_LABELS = {
    Kind.TICKET_OPENED: "Support Ticket Opened",
    Kind.TICKET_OPENED_BY_ADMIN: "Support Ticket Opened by Admin",
    Kind.NEW_TICKET_NOTICE: "New Support Ticket Notification",
}


@dataclass(frozen=True)
class MessageSettings:
    """What composing a message takes from the configuration."""

    # Links back to the portal, and the host of Message-IDs and of the last-resort sender.
    base_url: str = "http://127.0.0.1:5000"
    timezone: ZoneInfo = UTC_ZONE
    # The From of departments without an address.
    mail_default_sender: str = ""

    @classmethod
    def from_config(cls, config: Mapping) -> "MessageSettings":
        return cls(
            base_url=config.get("BASE_URL", cls.base_url),
            timezone=ZoneInfo(config.get("TIMEZONE", "UTC")),
            mail_default_sender=config.get("MAIL_DEFAULT_SENDER", ""),
        )


@dataclass(frozen=True)
class _Draft:
    kind: str
    template: str
    subject: str
    to: list[Address]
    cc: list[Address]


@dataclass(frozen=True)
class Composed:
    """A message as stored in its row and sent: envelope addresses and RFC 5322 text."""

    sender: str
    recipients: str
    cc: str
    message: str


class CannotCompose(Exception):
    """The row's message cannot be written (no usable address, a deleted ticket, ...)."""


def ticket_opened_mail(
    department: "DepartmentRules", *, requester_email: str, by_staff: bool
) -> str | None:
    """The ticket-opened messages to send, as the new ticket's `mail_queued` (None: none)."""
    kinds = []
    if (by_staff or not department.no_autoresponder) and _has_address(requester_email):
        kinds.append(Kind.TICKET_OPENED_BY_ADMIN if by_staff else Kind.TICKET_OPENED)
    if department.email:
        kinds.append(Kind.NEW_TICKET_NOTICE)
    return " ".join(kinds) or None


def remember_queued(session: Session, ticket_id: int) -> None:
    """Note the ticket for the after-commit delivery of the session that opens it."""
    session.info.setdefault(QUEUED_KEY, []).append(ticket_id)


def release_queued(
    connection: Connection,
    *,
    ticket_ids: Sequence[int] | None = None,
    limit: int = 20,
    now: datetime | None = None,
) -> int:
    """Write the outbox rows of up to `limit` tickets whose mail waits in their row.

    Runs in the caller's transaction (delivery's claim), so that the rows and the cleared
    marks are committed together; concurrent callers never write a ticket's rows twice.
    Returns how many tickets it released.
    """
    columns = TICKETS.c
    waiting = select(columns.id, columns.mail_queued).where(columns.mail_queued.is_not(None))
    if ticket_ids is not None:
        if not ticket_ids:
            return 0
        waiting = waiting.where(columns.id.in_(list(ticket_ids)))
    # No ORDER BY: SQLite would then walk the whole table in id order instead of the partial
    # index of queued tickets (8.7 ms against 0.1 ms at 200,000 tickets).
    waiting = waiting.limit(limit)
    locks_rows = connection.dialect.name in SKIP_LOCKED_DIALECTS
    if locks_rows:
        waiting = waiting.with_for_update(skip_locked=True)
    found = {row.id: row.mail_queued for row in connection.execute(waiting)}
    if not found:
        return 0
    if locks_rows:
        # The rows are locked by this transaction: every one found is this caller's.
        connection.execute(_clear(found).values(mail_queued=None))
        released = list(found)
    else:
        # SQLite read them outside its single write lock; the conditional UPDATE takes the
        # lock, and what it returns is what no other caller cleared first.
        released = _cleared(connection, found)
        if not released:
            # Another sender took every one of them. Holding the lock now, a second look sees
            # what that sender committed, and nobody else can come between the look and the
            # UPDATE: without it this sender would report nothing to do while mail waits.
            found = {row.id: row.mail_queued for row in connection.execute(waiting)}
            released = _cleared(connection, found) if found else []
    now = now or utcnow()
    rows = [
        {
            "ticket_id": ticket_id,
            "kind": kind,
            "sender": "",
            "recipients": "",
            "cc": "",
            "message": "",
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        }
        for ticket_id in sorted(released)
        for kind in found[ticket_id].split()
    ]
    if rows:
        connection.execute(INSERT_OUTBOX, rows)
    return len(released)


def _clear(ticket_ids: Iterable[int]) -> Update:
    columns = TICKETS.c
    return update(TICKETS).where(columns.id.in_(list(ticket_ids)), columns.mail_queued.is_not(None))


def _cleared(connection: Connection, ticket_ids: Iterable[int]) -> list[int]:
    """The tickets whose mark this UPDATE cleared, of those named."""
    statement = _clear(ticket_ids).values(mail_queued=None).returning(TICKETS.c.id)
    return list(connection.scalars(statement))


def compose(session: Session, message_id: int, settings: MessageSettings) -> Composed:
    """Write the queued row's message from its ticket as it is now; raises CannotCompose."""
    # Plain gets: a batch's second message of a ticket and its department come from the
    # session's identity map, where a joined load would build and run a new query each time.
    row = session.get(OutboxMessage, message_id)
    if row is None or row.ticket is None:
        raise CannotCompose("its ticket no longer exists")
    ticket = row.ticket
    draft = _draft(row.kind, ticket)
    sender = _sender(ticket, settings)
    try:
        message = _compose(draft, sender, _context(ticket, settings), settings, row.created_at)
    except Exception as error:
        # A bad stored address must not stop the other messages; the failed row shows staff
        # which message could not be made and why.
        log.exception("Cannot compose %s for ticket %s", row.kind, ticket.tid)
        raise CannotCompose(f"Could not compose the message: {error}") from error
    return Composed(
        sender=sender.addr_spec if sender else "",
        recipients=", ".join(a.addr_spec for a in draft.to),
        cc=", ".join(a.addr_spec for a in draft.cc),
        message=message,
    )


def _draft(kind: str, ticket: Ticket) -> _Draft:
    department = ticket.department
    if kind == Kind.NEW_TICKET_NOTICE:
        return _Draft(
            kind=kind,
            template="new_ticket_notice",
            subject=f"[Ticket ID: {ticket.tid}] New Support Ticket: {ticket.subject}",
            to=_addresses(department.name, department.email),
            cc=[],
        )
    by_staff = kind == Kind.TICKET_OPENED_BY_ADMIN
    return _Draft(
        kind=kind,
        template="ticket_opened_by_admin" if by_staff else "ticket_opened",
        subject=f"[Ticket ID: {ticket.tid}] {ticket.subject}",
        to=_addresses(ticket.name, ticket.email),
        # WHMCS copies a contact's address into the ticket's CC and mails it there too.
        cc=_addresses("", ticket.cc),
    )


def failed_messages(session: Session, *, limit: int = 100) -> list[OutboxMessage]:
    """Messages given up on, newest first, with their tickets, for the staff area."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.FAILED)
            .options(joinedload(OutboxMessage.ticket))
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def retry_message(message: OutboxMessage) -> None:
    """Give a failed message a fresh series of attempts, starting now; the caller commits."""
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.claimed_by = None
    message.claimed_at = None


def _context(ticket: Ticket, settings: MessageSettings) -> dict:
    base_url = settings.base_url.rstrip("/")
    return {
        "ticket": ticket,
        "department": ticket.department,
        "view_url": f"{base_url}/viewticket?"
        + urlencode({"tid": ticket.tid, "c": ticket.access_code}),
        "staff_url": f"{base_url}/staff/",
        # Rendered once here even when two messages carry it: markdown of a long message is
        # the costly part of composing.
        "message_html": render_message(ticket.message, ticket.is_markdown),
        "opened_by": ticket.opened_by,
    }


def _compose(
    draft: _Draft,
    sender: Address | None,
    context: dict,
    settings: MessageSettings,
    queued_at: datetime,
) -> str:
    if sender is None:
        raise ValueError("no From address: set MAIL_DEFAULT_SENDER")
    if not draft.to:
        raise ValueError("no recipient address")
    environment = _environment()
    values = {**context, "subject": draft.subject}
    text = environment.get_template(f"{draft.template}.txt").render(values)
    html = environment.get_template(f"{draft.template}.html").render(values)
    headers = {
        "Subject": _header_text(draft.subject),
        "From": sender,
        "To": draft.to,
        "Cc": draft.cc,
        "Date": format_datetime(queued_at.replace(tzinfo=UTC).astimezone(settings.timezone)),
        "Message-ID": make_msgid(domain=_host(settings)),
        # RFC 3834: tells vacation responders and ticket systems not to answer automatically.
        "Auto-Submitted": "auto-generated",
    }
    return _plain_message(headers, text, html) or _email_message(headers, text, html)


def _email_message(headers: dict, text: str, html: str) -> str:
    addresses = [headers["From"], *headers["To"], *headers["Cc"]]
    needs_utf8 = not all(a.username.isascii() for a in addresses)
    message = EmailMessage(policy=UTF8_POLICY if needs_utf8 else ASCII_POLICY)
    for name, value in headers.items():
        if value or name != "Cc":
            message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes().decode("utf-8")


def _plain_message(headers: dict, text: str, html: str) -> str | None:
    """The bytes _email_message would give, written directly; None when they might differ.

    EmailMessage parses every header it is given and folds it again on output, which cost about
    3 ms per message, more than the rest of opening a ticket. Most tickets have ASCII
    subjects and plain names and addresses, whose headers come out exactly as given; for them
    this writes the same structure itself (tests/mail/test_plain_message.py checks that the
    two agree byte for byte). Body encoding is the email package's own choice of 7bit,
    quoted-printable or base64.
    """
    lines = []
    for name, value in headers.items():
        if isinstance(value, list):
            if not value and name == "Cc":
                continue
            if not all(_plain_address(a) for a in value):
                return None
            value = ", ".join(str(a) for a in value)
        elif isinstance(value, Address):
            if not _plain_address(value):
                return None
            value = str(value)
        if "=?" in value or not _PLAIN_VALUE.fullmatch(value):
            return None
        line = f"{name}: {value}"
        if len(line) > ASCII_POLICY.max_line_length:
            return None
        lines.append(line)
    encode = getattr(email.contentmanager, "_encode_text", None)
    if encode is None:
        return None
    parts = []
    for subtype, content, trailer in (("plain", text, ""), ("html", html, "MIME-Version: 1.0\n")):
        cte, payload = encode(content, "utf-8", None, ASCII_POLICY)
        if not payload.isascii():
            return None
        parts.append(
            f'Content-Type: text/{subtype}; charset="utf-8"\n'
            f"Content-Transfer-Encoding: {cte}\n{trailer}\n{payload}"
        )
    boundary = _boundary("\n".join(parts))
    body = f"\n--{boundary}\n".join(parts)
    message = (
        "\n".join(lines)
        + f'\nMIME-Version: 1.0\nContent-Type: multipart/alternative;\n boundary="{boundary}"\n'
        + f"\n--{boundary}\n{body}\n--{boundary}--\n"
    )
    return _LINE_BREAK.sub("\r\n", message)


def _plain_address(address: Address) -> bool:
    return bool(
        _PLAIN_ADDRESS.fullmatch(address.addr_spec)
        and (not address.display_name or _PLAIN_NAME.fullmatch(address.display_name))
    )


def _boundary(text: str) -> str:
    # As email.generator makes them: random digits, and never a line of the parts.
    token = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
    boundary, counter = token, 0
    while f"--{boundary}" in text and re.search(
        f"^--{re.escape(boundary)}(--)?$", text, re.MULTILINE
    ):
        boundary = f"{token}.{counter}"
        counter += 1
    return boundary


@cache
def _environment() -> Environment:
    # Its own environment, not the Flask app's: open_ticket runs outside app contexts too.
    # Compiled once per process, like the app's own templates outside debug mode: checking the
    # files' modification times cost ten stat calls per ticket.
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        auto_reload=False,
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _sender(ticket: Ticket, settings: MessageSettings) -> Address | None:
    department = ticket.department
    name, address = parseaddr(settings.mail_default_sender)
    candidates = (
        (department.name, department.email),
        (name or department.name, address),
        (name or department.name, f"noreply@{_host(settings)}"),
    )
    for display, text in candidates:
        found = _addresses(display, text)
        if found:
            return found[0]
    return None


def _has_address(text: str) -> bool:
    """Whether the text names an address at all; composing checks it fully.

    Parsing an Address here cost a quarter to a third of queueing; an address that parses no
    further makes the row fail at composition, where staff see why.
    """
    return any(
        local and domain
        for local, _, domain in (part.rpartition("@") for part in re.split(r"[,;\s]+", text or ""))
    )


def _addresses(name: str, text: str) -> list[Address]:
    """The addresses in a comma- or semicolon-separated list, each once, invalid ones left out."""
    found: dict[str, Address] = {}
    for part in re.split(r"[,;\s]+", text or ""):
        local, _, domain = part.strip().rpartition("@")
        if not local or not domain:
            continue
        try:
            # Internationalised domains travel as punycode, which every server understands.
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            continue
        display = _header_text(name)
        try:
            if local.isascii():
                address = Address(display, addr_spec=f"{local}@{domain}")
            else:
                address = Address(display, username=local, domain=domain)
        except (ValueError, IndexError, MessageError) as error:
            log.warning("Leaving out the unusable address %r: %s", part, error)
            continue
        found.setdefault(address.addr_spec.lower(), address)
    return list(found.values())


def _header_text(text: str) -> str:
    """Header text on one line: a line break in a subject would start a new header."""
    return _CONTROL.sub(" ", text or "").strip()


def _host(settings: MessageSettings) -> str:
    return urlsplit(settings.base_url).hostname or "localhost"
