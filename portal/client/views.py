"""The client area's home page and the markdown preview the compose forms call."""

from flask import Response, render_template, request

from portal.client import client
from portal.rendering import render_markdown
from portal.tickets.opening import MAX_MESSAGE


@client.get("/")
def home():
    return render_template("client/home.html")


@client.post("/markdown-preview")
def markdown_preview():
    """The message as the view page will show it; CSRF-protected like every POST."""
    text = request.form.get("message", "")[:MAX_MESSAGE]
    return Response(str(render_markdown(text)), mimetype="text/html")
