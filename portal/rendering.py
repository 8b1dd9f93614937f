"""Ticket messages as safe HTML: one renderer for the view page, the preview and the email."""

from datetime import UTC, datetime
from importlib.metadata import version
from typing import Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import mistune
import nh3
from flask import Flask, current_app
from markupsafe import Markup, escape
from mistune.util import striptags

ALLOWED_TAGS = {
    "a",
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


class _Renderer(mistune.HTMLRenderer):
    def image(self, text: str, url: str, title: str | None = None) -> str:
        # An image from another host would tell it who reads the ticket and when; show a link.
        # `text` is the alt text already rendered (and escaped) as inline HTML: only its tags go.
        label = striptags(text) if text else escape(url)
        return f'<a href="{self.safe_url(url)}">{label}</a>'


_markdown = mistune.create_markdown(
    escape=True,
    renderer=_Renderer(escape=True),
    plugins=["strikethrough", "table", "url"],
)


def render_markdown(text: str) -> Markup:
    html = _markdown(text or "")
    assert isinstance(html, str)  # the renderer is HTML, not the AST
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)  # noqa: S704 - sanitised by nh3 just above


def render_plain(text: str) -> Markup:
    """Escaped text with its line breaks kept."""
    return Markup("<p>") + escape(text or "").replace("\n", Markup("<br>\n")) + Markup("</p>")


def render_message(text: str, is_markdown: bool) -> Markup:
    return render_markdown(text) if is_markdown else render_plain(text)


# What made a stored message's HTML. A message is rendered once, when it is written, and shown
# from what was stored; one stored by another renderer (an upgrade of mistune or nh3, a change
# to this version) is rendered again when shown, so a page always shows what this code makes.
RENDERER_VERSION = f"2 mistune {version('mistune')} nh3 {version('nh3')}"


class StoredMessage(Protocol):
    message: str
    message_html: str | None
    message_renderer: str | None

    @property
    def is_markdown(self) -> bool: ...


def rendered_for_storage(text: str, is_markdown: bool) -> tuple[str, str]:
    """The HTML to store with a message, and the renderer version to store beside it."""
    return str(render_message(text, is_markdown)), RENDERER_VERSION


def stored_message_html(record: StoredMessage) -> Markup:
    """The record's message as HTML: as stored, when this renderer stored it."""
    if record.message_renderer == RENDERER_VERSION and record.message_html is not None:
        return Markup(record.message_html)  # noqa: S704 - rendered and sanitised when stored
    return render_message(record.message, record.is_markdown)


def local_time(moment: datetime | None) -> str:
    """A stored naive-UTC time in the portal's time zone."""
    if moment is None:
        return ""
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    return local.strftime("%Y-%m-%d %H:%M %Z")


def is_safe_link(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ALLOWED_SCHEMES


def register_template_filters(app: Flask) -> None:
    from portal.tickets.attachments import format_size  # the core imports this module

    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(render_message, "rendered_message")
    app.add_template_filter(stored_message_html, "message_html")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(lambda size: format_size(int(size)), "filesize")
    app.add_template_filter(lambda status: str(status).lower().replace(" ", "-"), "status_css")
    app.add_template_test(is_safe_link, "safe_link")
