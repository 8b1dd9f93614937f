"""The client area's home page and the markdown preview the compose forms call."""

from flask import Response, render_template, request

from portal.client import client
from portal.extensions import RateLimit
from portal.models import Editor
from portal.rendering import render_message
from portal.tickets.opening import MAX_MESSAGE

PREVIEWS_PER_IP = RateLimit("RATELIMIT_PREVIEWS_PER_IP")
TOO_MANY_PREVIEWS = "The preview rests for a moment: too many were asked from your network."


@client.get("/")
def home():
    return render_template("client/home.html")


@client.post("/markdown-preview")
def markdown_preview():
    """The message as the view page will show it; CSRF-protected like every POST.

    `editor=plain` renders it as a message sent without the Markdown box ticked; the client
    area's form has no such box, and its messages are Markdown.

    Rendering a long message of odd markdown costs real CPU: the text is capped at what a
    message may be, and previews are limited per address.
    """
    if not PREVIEWS_PER_IP.count(request.remote_addr or ""):
        return Response(TOO_MANY_PREVIEWS, status=429, mimetype="text/plain")
    text = request.form.get("message", "")[:MAX_MESSAGE]
    is_markdown = request.form.get("editor", Editor.MARKDOWN.value) != Editor.PLAIN.value
    return Response(str(render_message(text, is_markdown)), mimetype="text/html")
