"""The client area's home page and the markdown preview the compose forms call."""

from flask import Response, render_template, request

from portal.client import client
from portal.client.acting import acting_account, needs_account_choice
from portal.extensions import RateLimit, db
from portal.identity import signed_in_user
from portal.models import Editor
from portal.rendering import render_message
from portal.tickets import queries
from portal.tickets.opening import MAX_MESSAGE

# Tickets of each list on a client's home page; the rest are one link away, in My tickets.
HOME_TICKETS = 5

PREVIEWS_PER_IP = RateLimit("RATELIMIT_PREVIEWS_PER_IP")
TOO_MANY_PREVIEWS = "The preview rests for a moment: too many were asked from your network."


@client.get("/")
def home():
    """A guest's way in; for a signed-in client, what awaits their reply and what is open."""
    user = signed_in_user()
    account = acting_account(user) if user else None
    if account is None:
        choose = user is not None and needs_account_choice(user)
        return render_template("client/home.html", account=None, needs_choice=choose)
    return render_template(
        "client/home.html",
        account=account,
        awaiting=_first_page(queries.awaiting_the_client(account.id)),
        still_open=_first_page(queries.active_not_awaiting_the_client(account.id)),
    )


def _first_page(statement):
    return db.paginate(statement, page=1, per_page=HOME_TICKETS, max_per_page=HOME_TICKETS)


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
