"""Ticket email, composed and queued in the transaction that opens the ticket.

Messages are rendered here, at queue time, rather than by the worker: what a requester receives
is the ticket as it was opened (a later rename of the department or change of status does not
rewrite it), the stored row is exactly the bytes that will be sent and that staff can inspect,
and delivery needs neither templates nor models, so it cannot fail on a deleted record or a
template change between queueing and sending.
"""

import email.policy
import logging
import re
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
    addresses = [sender, *draft.to, *draft.cc]
    needs_utf8 = not all(a.username.isascii() for a in addresses)
    message = EmailMessage(policy=UTF8_POLICY if needs_utf8 else ASCII_POLICY)
    message["Subject"] = _header_text(draft.subject)
    message["From"] = sender
    message["To"] = draft.to
    if draft.cc:
        message["Cc"] = draft.cc
    message["Date"] = format_datetime(datetime.now(settings.timezone))
    message["Message-ID"] = make_msgid(domain=_host(settings))
    # RFC 3834: tells vacation responders and ticket systems not to answer automatically.
    message["Auto-Submitted"] = "auto-generated"
    environment = _environment()
    values = {**context, "subject": draft.subject}
    message.set_content(environment.get_template(f"{draft.template}.txt").render(values))
    message.add_alternative(
        environment.get_template(f"{draft.template}.html").render(values), subtype="html"
    )
    return message.as_bytes().decode("utf-8")


@cache
def _environment() -> Environment:
    # Its own environment, not the Flask app's: open_ticket runs outside app contexts too.
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
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
