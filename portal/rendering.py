"""Ticket messages as safe HTML: one renderer for the view page, the preview and the email."""

from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import mistune
import nh3
from flask import Flask, current_app
from markupsafe import Markup, escape

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
        label = text or url
        return f'<a href="{self.safe_url(url)}">{escape(label)}</a>'


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
    app.add_template_filter(render_message, "message_html")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(lambda size: format_size(int(size)), "filesize")
    app.add_template_test(is_safe_link, "safe_link")
