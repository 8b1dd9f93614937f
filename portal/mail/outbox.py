"""Ticket email as a transactional outbox: rows written with the ticket, composed at delivery.

A ticket's messages are OutboxMessage rows added in the ticket's own transaction, so the email
is committed or rolled back with it. Whoever delivers first (the after-commit relay or
`send-mail`) composes each row's message from its ticket, once, and stores the bytes in the row
with the result of sending it; a retry sends those bytes again, and staff can inspect them. A
row whose message cannot be composed is marked failed with the reason, as a refused one is.
"""

import email.policy
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.models import OutboxMessage, OutboxStatus, Ticket, TicketReply, utcnow
from portal.rendering import stored_message_html

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "email"
# Set in a session that queued mail, so that its commit hands delivery to the relay.
QUEUED_KEY = "portal_mail_queued"

# Written with the email package's MIME classes, whose headers are the strings given: every
# part of a header made from a person's text goes through header_text() or display_name()
# first, and every address is ASCII (domains as punycode). The whole message is 7bit ASCII, so
# it passes any relay; non-ASCII bodies are quoted-printable, which mail clients show as typed.
SMTP_LINES = email.policy.compat32.clone(linesep="\r\n")
_UTF8_QUOTED_PRINTABLE = Charset("utf-8")
_UTF8_QUOTED_PRINTABLE.body_encoding = QP
# RFC 5322's dot-atom: what an address's local part and domain may be without quoting.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
# C0 and C1 controls; line and paragraph separators are whitespace to str.split().
UTC_ZONE = ZoneInfo("UTC")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,"]')


class Kind:
    """What an outbox row is; stored in OutboxMessage.kind."""

    TICKET_OPENED = "ticket_opened"
    TICKET_OPENED_BY_ADMIN = "ticket_opened_by_admin"
    NEW_TICKET_NOTICE = "new_ticket_notice"
    # A staff reply, to the requester and the ticket's CC.
    TICKET_REPLY = "ticket_reply"
    # A client's or guest's reply, to the department.
    REPLY_NOTICE = "reply_notice"


KIND_LABELS = {
    Kind.TICKET_OPENED: "Support Ticket Opened",
    Kind.TICKET_OPENED_BY_ADMIN: "Support Ticket Opened by Admin",
    Kind.NEW_TICKET_NOTICE: "New Support Ticket Notification",
    Kind.TICKET_REPLY: "Support Ticket Reply",
    Kind.REPLY_NOTICE: "Support Ticket Response",
}


@dataclass(frozen=True)
class MessageSettings:
    """What composing a message takes from the configuration."""

    # Links back to the portal, and the host of Message-IDs and of the last-resort sender.
    base_url: str = "http://127.0.0.1:5000"
    timezone: ZoneInfo = UTC_ZONE
    # The From of departments without an address.
    mail_default_sender: str = ""
    # The operator's brand (SITE_NAME, ACCENT_COLOR): the emails' heading and signature.
    site_name: str = "Support portal"
    accent: str = "#0b57a4"

    @classmethod
    def from_config(cls, config: Mapping) -> "MessageSettings":
        return cls(
            base_url=config.get("BASE_URL", cls.base_url),
            timezone=ZoneInfo(config.get("TIMEZONE", "UTC")),
            mail_default_sender=config.get("MAIL_DEFAULT_SENDER", ""),
            site_name=" ".join(str(config.get("SITE_NAME") or "").split()) or cls.site_name,
            accent=str(config.get("ACCENT_COLOR") or "").strip() or cls.accent,
        )


@dataclass(frozen=True)
class Composed:
    """A message as stored in its row and sent: envelope addresses and RFC 5322 text."""

    sender: str
    recipients: str
    cc: str
    message: str


class MailAddress(NamedTuple):
    display_name: str
    addr_spec: str

    def formatted(self) -> str:
        """`Name <address>`, the name quoted or RFC 2047-encoded as it needs."""
        return formataddr((self.display_name, self.addr_spec), "utf-8")


class CannotCompose(Exception):
    """The row's message cannot be written (no usable address, a deleted ticket, ...)."""


def queue_ticket_opened(session: Session, ticket: Ticket, *, by_staff: bool) -> None:
    """Add the new ticket's messages: the requester's confirmation and the department's notice."""
    department = ticket.department
    kinds = []
    if (by_staff or not department.no_autoresponder) and _addresses("", ticket.email):
        kinds.append(Kind.TICKET_OPENED_BY_ADMIN if by_staff else Kind.TICKET_OPENED)
    if department.email:
        kinds.append(Kind.NEW_TICKET_NOTICE)
    now = utcnow()
    for kind in kinds:
        session.add(OutboxMessage(ticket=ticket, kind=kind, created_at=now, next_attempt_at=now))
    if kinds:
        session.info[QUEUED_KEY] = True


def queue_reply(session: Session, reply: TicketReply) -> None:
    """Add a reply's message: a staff reply to the requester, a client's to the department."""
    ticket = reply.ticket
    if reply.by_staff:
        kind = Kind.TICKET_REPLY if _addresses("", ticket.email) else None
    else:
        kind = Kind.REPLY_NOTICE if ticket.department.email else None
    if kind is None:
        return
    now = utcnow()
    session.add(
        OutboxMessage(ticket=ticket, reply=reply, kind=kind, created_at=now, next_attempt_at=now)
    )
    session.info[QUEUED_KEY] = True


def confirmation_recipient(session: Session, ticket: Ticket) -> str:
    """Where the ticket's opening confirmation goes: its email, when one was queued; else ""."""
    queued = session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.ticket_id == ticket.id,
            OutboxMessage.kind.in_((Kind.TICKET_OPENED, Kind.TICKET_OPENED_BY_ADMIN)),
        )
        .limit(1)
    )
    return ticket.email if queued is not None else ""


def compose(row: OutboxMessage, settings: MessageSettings) -> Composed:
    """Write the row's message from its ticket as it is now; raises CannotCompose."""
    ticket = row.ticket
    if ticket is None:
        raise CannotCompose("its ticket no longer exists")
    try:
        template, subject, to, cc = _draft(row.kind, ticket)
        if row.kind in (Kind.TICKET_REPLY, Kind.REPLY_NOTICE) and row.reply is None:
            raise ValueError("its reply no longer exists")
        sender = _sender(ticket, settings)
        if sender is None:
            raise ValueError("no From address: set MAIL_DEFAULT_SENDER")
        if not to:
            raise ValueError("no recipient address")
        values = {**_context(ticket, settings), "subject": one_line(subject), "reply": row.reply}
        if row.reply is not None:
            values["reply_html"] = stored_message_html(row.reply)
        environment = _environment()
        message = MIMEMultipart("alternative")
        message["Subject"] = _header(header_text(subject))
        message["From"] = sender.formatted()
        message["To"] = ", ".join(address.formatted() for address in to)
        if cc:
            message["Cc"] = ", ".join(address.formatted() for address in cc)
        message["Date"] = format_datetime(
            row.created_at.replace(tzinfo=UTC).astimezone(settings.timezone)
        )
        # Made from the row, so that composing it again gives the same Message-ID.
        message["Message-ID"] = f"<ticket-{ticket.id}.{row.id}@{_host(settings)}>"
        # Every message of a ticket answers one thread root, so mail clients keep them together.
        thread = f"<ticket-{ticket.id}@{_host(settings)}>"
        message["In-Reply-To"] = thread
        message["References"] = thread
        # RFC 3834: tells vacation responders and ticket systems not to answer automatically.
        message["Auto-Submitted"] = "auto-generated"
        for subtype in ("plain", "html"):
            body = environment.get_template(f"{template}.{subtype}".replace("plain", "txt"))
            message.attach(_text_part(body.render(values), subtype))
        text = message.as_string(policy=SMTP_LINES)
    except Exception as error:
        # A bad stored address must not stop the other messages; the failed row shows staff
        # which message could not be made and why.
        log.exception("Cannot compose %s for ticket %s", row.kind, ticket.tid)
        raise CannotCompose(f"Could not compose the message: {error}") from error
    return Composed(
        sender=sender.addr_spec,
        recipients=", ".join(a.addr_spec for a in to),
        cc=", ".join(a.addr_spec for a in cc),
        message=text,
    )


def _header(text: str) -> str:
    """An unstructured header: folded as it is when ASCII, as RFC 2047 encoded-words if not."""
    return Header(text, "us-ascii" if text.isascii() else "utf-8").encode()


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, "us-ascii" if text.isascii() else _UTF8_QUOTED_PRINTABLE)
    return part


def _draft(kind: str, ticket: Ticket) -> tuple[str, str, list[MailAddress], list[MailAddress]]:
    """The template, subject, To and Cc of a kind of message about this ticket."""
    department = ticket.department
    if kind == Kind.REPLY_NOTICE:
        subject = f"[Ticket ID: {ticket.tid}] New Support Ticket Response: {ticket.subject}"
        return "reply_notice", subject, _addresses(department.name, department.email), []
    if kind == Kind.TICKET_REPLY:
        subject = f"[Ticket ID: {ticket.tid}] {ticket.subject}"
        return (
            "ticket_reply",
            subject,
            _addresses(ticket.name, ticket.email),
            _addresses("", ticket.cc),
        )
    if kind == Kind.NEW_TICKET_NOTICE:
        subject = f"[Ticket ID: {ticket.tid}] New Support Ticket: {ticket.subject}"
        return "new_ticket_notice", subject, _addresses(department.name, department.email), []
    template = "ticket_opened_by_admin" if kind == Kind.TICKET_OPENED_BY_ADMIN else "ticket_opened"
    subject = f"[Ticket ID: {ticket.tid}] {ticket.subject}"
    # WHMCS copies a contact's address into the ticket's CC and mails it there too.
    return template, subject, _addresses(ticket.name, ticket.email), _addresses("", ticket.cc)


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
        "staff_ticket_url": f"{base_url}/staff/tickets/{quote(ticket.tid, safe='')}",
        "message_html": stored_message_html(ticket),
        "opened_by": ticket.opened_by,
        "site_name": settings.site_name,
        "accent": settings.accent,
        "site_url": f"{base_url}/",
    }


@cache
def _environment() -> Environment:
    # Its own environment, not the Flask app's: delivery runs outside app contexts too.
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["one_line"] = one_line
    return environment


def _sender(ticket: Ticket, settings: MessageSettings) -> MailAddress | None:
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


def _addresses(name: str, text: str) -> list[MailAddress]:
    """The addresses in a comma- or semicolon-separated list, each once, unusable ones left out."""
    found: dict[str, MailAddress] = {}
    for part in re.split(r"[,;\s]+", text or ""):
        local, _, domain = part.strip().rpartition("@")
        if not local or not domain:
            continue
        try:
            # Internationalised domains travel as punycode, which every server understands.
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            log.warning("Leaving out the address %r: its domain cannot be written in ASCII", part)
            continue
        if not _DOT_ATOM.fullmatch(local) or not _DOT_ATOM.fullmatch(domain):
            log.warning("Leaving out the unusable address %r", part)
            continue
        address = MailAddress(display_name(name), f"{local}@{domain}")
        found.setdefault(address.addr_spec.lower(), address)
    return list(found.values())


def one_line(text: str) -> str:
    """A person's one-line text (a name, a subject) on one line, as the headers show it.

    Every line separator (CR, LF, U+0085, U+2028, U+2029, ...) and control character becomes a
    space. The bodies use it too, so that their "Subject:" line reads as the header does.
    """
    return " ".join(_CONTROL.sub(" ", text or "").split())


def header_text(text: str) -> str:
    """A person's text made safe for a header: one line, and no encoded-word of their own.

    one_line() keeps anything from starting a header of its own. "=?" becomes "= ?": an
    encoded-word typed by a person would otherwise be decoded by the header parser, and Python
    before 3.11.10 and 3.12.5 writes what it decodes (line breaks included) back unencoded.
    """
    return one_line(text).replace("=?", "= ?")


def display_name(text: str) -> str:
    """A person's name for an address header: header_text() without RFC 5322's specials.

    A name that needs quoting is written without its quotes when the email package folds it
    (Python 3.11 and 3.12 do), and its "@" and "," would then make an address of their own.
    """
    return " ".join(_SPECIALS.sub(" ", header_text(text)).split())


def _host(settings: MessageSettings) -> str:
    return urlsplit(settings.base_url).hostname or "localhost"
