"""The client area's home page and the markdown preview the compose forms call."""

from flask import Response, render_template, request

from portal.client import client
from portal.extensions import RateLimit
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

    Rendering a long message of odd markdown costs real CPU: the text is capped at what a
    message may be, and previews are limited per address. A form with a Markdown box sends
    markdown=0 when it is unticked: the message is then shown as plain text, as it will be.
    """
    if not PREVIEWS_PER_IP.count(request.remote_addr or ""):
        return Response(TOO_MANY_PREVIEWS, status=429, mimetype="text/plain")
    text = request.form.get("message", "")[:MAX_MESSAGE]
    as_markdown = request.form.get("markdown", "1") != "0"
    return Response(str(render_message(text, as_markdown)), mimetype="text/html")
