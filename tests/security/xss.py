"""The XSS corpus, tickets that carry it everywhere a page shows text, and an HTML inspector."""

import email
import email.policy
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import CustomFieldType, OutboxMessage, Ticket
from portal.tickets import IncomingFile, OpenTicketRequest, open_ticket
from portal.tickets.attachments import refusal, safe_name
from portal.tickets.opening import MAX_NAME, MAX_SUBJECT

PAYLOADS = [
    line
    for line in (Path(__file__).with_name("xss_payloads.txt").read_text("utf-8").splitlines())
    if line.strip()
]
# Tags that never belong in a rendered message, and that no portal page has either.
FOREIGN_TAGS = frozenset(
    {"script", "iframe", "frame", "object", "embed", "svg", "math", "img", "style", "base"}
)
# A message fragment holds no form or document parts either.
FRAGMENT_FOREIGN_TAGS = FOREIGN_TAGS | {"form", "input", "button", "link", "meta", "body"}
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "data", "srcdoc", "xlink:href", "background"}
)
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20]")


class Inspector(HTMLParser):
    """Collects what could run: foreign tags, event handlers, and links of other schemes."""

    def __init__(self, foreign_tags: frozenset[str]):
        super().__init__(convert_charrefs=True)
        self.foreign_tags = foreign_tags
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        own_script = tag == "script" and any(
            name == "src" and (value or "").startswith("/static/") for name, value in attrs
        )
        if tag in self.foreign_tags and not own_script:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>")
            if name in URL_ATTRIBUTES and not safe_url(value or ""):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "style" and "url(" in (value or "").lower():
                self.problems.append(f"<{tag} style={value!r}>")


def safe_url(value: str) -> bool:
    """Relative, or http(s)/mailto, read the way a browser reads it (tabs, newlines ignored)."""
    url = _IGNORED_IN_URLS.sub("", value).lower()
    scheme, colon, _ = url.partition(":")
    if not colon or "/" in scheme or "?" in scheme or "#" in scheme:
        return True
    return scheme in SAFE_SCHEMES


def problems_in(html: str, *, fragment: bool) -> list[str]:
    inspector = Inspector(FRAGMENT_FOREIGN_TAGS if fragment else FOREIGN_TAGS)
    inspector.feed(html)
    inspector.close()
    return inspector.problems


@dataclass
class CarrierDepartment:
    """A department whose tickets carry payloads in a text and a link custom field."""

    id: int
    text_field: int
    link_field: int


def carrier_department(make) -> CarrierDepartment:
    department = make.department(name="Support", email="support@example.com")
    text = make.custom_field(department, name="Details")
    link = make.custom_field(department, name="Site", field_type=CustomFieldType.LINK)
    return CarrierDepartment(department.id, text.id, link.id)


def payload_ticket(department: CarrierDepartment, settings, payload: str, *, markdown: bool):
    """A guest ticket with the payload as subject, name, message, custom fields and file name."""
    file_name = safe_name(f"{payload}.txt")
    uploads = []
    if refusal(file_name, settings.allowed_extensions) is None:
        uploads.append(IncomingFile.from_bytes(file_name, b"payload"))
    request = OpenTicketRequest(
        deptid=department.id,
        subject=payload[:MAX_SUBJECT],
        message=payload,
        name=payload[:MAX_NAME],
        email="gina@example.com",
        markdown=markdown,
        customfields={department.text_field: payload, department.link_field: payload},
        uploads=uploads,
    )
    opened = open_ticket(db.session, request, settings)
    db.session.commit()
    return opened


def email_html_parts(ticket: Ticket) -> list[str]:
    """The HTML of the ticket's queued messages, composed as their delivery composes them."""
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
    settings = outbox.MessageSettings.from_config(current_app.config)
    parts = []
    for row in rows:
        text = outbox.compose(row, settings).message
        message = email.message_from_string(text, policy=email.policy.default)
        parts.append(message.get_body(("html",)).get_content())
    return parts
