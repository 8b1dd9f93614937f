"""Ticket messages as safe HTML: one renderer for the view page, the preview and the email."""

from functools import lru_cache
from urllib.parse import urlsplit

import mistune
import nh3
from flask import Flask
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


# A ticket is read far more often than written, and rendering depends on the text alone: recent
# messages are kept per process. Long ones are left out, so the cache stays a few MB at most.
CACHED_MESSAGE_MAX_CHARS = 8 * 1024


def render_message(text: str, is_markdown: bool) -> Markup:
    text = text or ""
    if len(text) <= CACHED_MESSAGE_MAX_CHARS:
        return _cached_message(text, is_markdown)
    return _render_message(text, is_markdown)


@lru_cache(maxsize=256)
def _cached_message(text: str, is_markdown: bool) -> Markup:
    return _render_message(text, is_markdown)


def _render_message(text: str, is_markdown: bool) -> Markup:
    return render_markdown(text) if is_markdown else render_plain(text)


def is_safe_link(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ALLOWED_SCHEMES


def register_template_filters(app: Flask) -> None:
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(render_message, "message_html")
