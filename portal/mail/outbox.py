"""Ticket email, composed and queued in the transaction that opens the ticket.

Messages are rendered here, at queue time, rather than by the worker: what a requester receives
is the ticket as it was opened (a later rename of the department or change of status does not
rewrite it), the stored row is exactly the bytes that will be sent and that staff can inspect,
and delivery needs neither templates nor models, so it cannot fail on a deleted record or a
template change between queueing and sending.
"""

import email.contentmanager
import email.policy
import logging
import random
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.models import OutboxMessage, OutboxStatus, Ticket, utcnow
from portal.rendering import render_message

if TYPE_CHECKING:  # portal.tickets imports this module
    from portal.tickets.settings import TicketSettings

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "email"
# Sessions remember the rows they queued so that the after-commit delivery knows which to try.
QUEUED_KEY = "portal_mail_queued"

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
class _Draft:
    kind: str
    template: str
    subject: str
    to: list[Address]
    cc: list[Address]


def queue_ticket_opened(
    session: Session, ticket: Ticket, settings: "TicketSettings", *, by_staff: bool
) -> list[OutboxMessage]:
    """Add the ticket-opened messages to the session, to be committed with the ticket."""
    if ticket.email_suppressed:
        return []
    department = ticket.department
    drafts = []
    requester = _addresses(ticket.name, ticket.email)
    if requester and (by_staff or not department.no_autoresponder):
        drafts.append(
            _Draft(
                kind=Kind.TICKET_OPENED_BY_ADMIN if by_staff else Kind.TICKET_OPENED,
                template="ticket_opened_by_admin" if by_staff else "ticket_opened",
                subject=f"[Ticket ID: {ticket.tid}] {ticket.subject}",
                to=requester,
                # WHMCS copies a contact's address into the ticket's CC and mails it there too.
                cc=_addresses("", ticket.cc),
            )
        )
    if department.email:
        drafts.append(
            _Draft(
                kind=Kind.NEW_TICKET_NOTICE,
                template="new_ticket_notice",
                subject=f"[Ticket ID: {ticket.tid}] New Support Ticket: {ticket.subject}",
                to=_addresses(department.name, department.email),
                cc=[],
            )
        )
    if not drafts:
        return []
    context = _context(ticket, settings)
    rows = [_row(ticket, draft, context, settings) for draft in drafts]
    session.add_all(rows)
    session.info.setdefault(QUEUED_KEY, []).extend(rows)
    return rows


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


def _context(ticket: Ticket, settings: "TicketSettings") -> dict:
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


def _row(ticket: Ticket, draft: _Draft, context: dict, settings: "TicketSettings") -> OutboxMessage:
    sender = _sender(ticket, settings)
    row = OutboxMessage(
        ticket_id=ticket.id,
        kind=draft.kind,
        sender=sender.addr_spec if sender else "",
        recipients=", ".join(a.addr_spec for a in draft.to),
        cc=", ".join(a.addr_spec for a in draft.cc),
        status=OutboxStatus.PENDING,
        attempts=0,
        last_error="",
        created_at=utcnow(),
    )
    row.next_attempt_at = row.created_at
    try:
        row.message = _compose(draft, sender, context, settings)
    except Exception as error:
        # A bad stored address must not stop the ticket from opening; the failed row shows
        # staff which message could not be made and why.
        log.exception("Cannot compose %s for ticket %s", draft.kind, ticket.tid)
        row.message = ""
        row.status = OutboxStatus.FAILED
        row.last_error = f"Could not compose the message: {error}"[:2000]
    return row


def _compose(
    draft: _Draft, sender: Address | None, context: dict, settings: "TicketSettings"
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
        "Date": format_datetime(datetime.now(settings.timezone)),
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


def _sender(ticket: Ticket, settings: "TicketSettings") -> Address | None:
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


def _host(settings: "TicketSettings") -> str:
    return urlsplit(settings.base_url).hostname or "localhost"
