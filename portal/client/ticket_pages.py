"""Viewing, downloading from and closing a ticket with its tid and access code; My tickets."""

from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlencode

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from portal.client import client
from portal.client.acting import acting_account
from portal.client.kept_pages import UNCHANGED_BY_URL_QUOTING, kept_page
from portal.downloads import attachment_download
from portal.extensions import db
from portal.identity import client_login_required, signed_in_user
from portal.models import Ticket
from portal.site_links import site_link
from portal.ticket_facts import TicketFacts, ticket_facts
from portal.tickets.access import (
    Decision,
    TicketPage,
    account_tickets,
    ticket_access,
    ticket_attachment,
    ticket_page_access,
)
from portal.tickets.closing import (
    CLIENT_CLOSURE_PREVENTED,
    CloseTicketError,
    client_may_close,
    close_ticket_as_client,
)


@client.get("/viewticket.php")
@client.get("/viewticket")
def view_ticket():
    tid, code = request.args.get("tid"), request.args.get("c")
    access = ticket_page_access(db.session, tid, code, signed_in_user())
    if not access.granted:
        return refused(access.decision)
    return render_ticket(access.ticket)


@client.get("/viewticket/attachment/<int:attachment_id>")
def download_attachment(attachment_id: int):
    access = ticket_access(
        db.session, request.args.get("tid"), request.args.get("c"), signed_in_user()
    )
    if not access.granted:
        return refused(access.decision)
    attachment = ticket_attachment(access.ticket, attachment_id)
    if attachment is None:
        return not_found()
    return attachment_download(attachment) or not_found()


# The view page links here instead of carrying the POST form itself: a form needs a CSRF token,
# and a token means a session cookie, written on every view of a ticket otherwise.
@client.get("/viewticket/close")
def confirm_close_ticket():
    tid, code = request.args.get("tid"), request.args.get("c")
    access = ticket_access(db.session, tid, code, signed_in_user())
    if not access.granted:
        return refused(access.decision)
    ticket = access.ticket
    if ticket.is_closed:
        return redirect(url_for(".view_ticket", tid=tid, c=code), 303)
    if not client_may_close(ticket):
        return render_template(
            "client/close_ticket.html", ticket=ticket, close_error=CLIENT_CLOSURE_PREVENTED
        ), 403
    return render_template("client/close_ticket.html", ticket=ticket)


@client.post("/viewticket/close")
def close_ticket():
    tid, code = request.form.get("tid"), request.form.get("c")
    access = ticket_access(db.session, tid, code, signed_in_user())
    if not access.granted:
        return refused(access.decision)
    try:
        closed = close_ticket_as_client(db.session, access.ticket)
    except CloseTicketError as error:
        db.session.rollback()
        return render_ticket(access.ticket, close_error=error.message, status=403)
    db.session.commit()
    if closed:
        flash("The ticket is closed.", "success")
    return redirect(url_for(".view_ticket", tid=tid, c=code), 303)


@client.get("/tickets")
@client_login_required
def my_tickets():
    user = signed_in_user()
    account = acting_account(user)
    if account is None and user.memberships:
        return redirect(url_for(".choose_account_page", next=request.path))
    tickets = account_tickets(db.session, account.id) if account else []
    return render_template("client/my_tickets.html", account=account, tickets=tickets)


def render_ticket(
    ticket: Ticket | TicketPage, *, close_error: str | None = None, status: int = 200
):
    facts = ticket_facts(ticket)
    may_close = client_may_close(ticket)

    def render(shown: Mapping[str, str]) -> str:
        shown_facts = replace(
            facts,
            **{name: shown[name] for name in TicketFacts.TEXTS},
            message_html=Markup(shown["message_html"]),  # noqa: S704 - HTML, or a stand-in
        )
        return render_view_page(shown_facts, [], may_close, shown.get("code"))

    # A guest's view of a ticket with neither attachments nor custom field values is cut from
    # the page the worker keeps for tickets like it (portal/client/kept_pages.py). Kept only
    # for a tid and code that URL quoting leaves as they are: the Close link carries them quoted.
    if (
        close_error is None
        and not ticket.attachments
        and not facts.field_values
        and signed_in_user() is None
        and UNCHANGED_BY_URL_QUOTING.fullmatch(ticket.tid)
        and UNCHANGED_BY_URL_QUOTING.fullmatch(ticket.access_code)
    ):
        key = (request.script_root, "client/view_ticket.html", facts.is_closed, may_close)
        values = facts.texts() | ({"code": ticket.access_code} if may_close else {})
        return kept_page(key, values, render, private=("tid", "code")), status
    # The links all carry the same query; encoded once, it costs less than url_for's per link.
    rights = "?" + urlencode({"tid": ticket.tid, "c": ticket.access_code})
    links = [
        (a, url_for(".download_attachment", attachment_id=a.id) + rights)
        for a in ticket.attachments
    ]
    return render_view_page(facts, links, may_close, ticket.access_code, close_error), status


def render_view_page(
    facts: TicketFacts,
    attachment_links: list,
    may_close: bool,
    code: str | None,
    close_error: str | None = None,
) -> str:
    close_url = None
    if may_close:
        rights = urlencode({"tid": facts.tid, "c": code})
        close_url = f"{site_link('client.confirm_close_ticket')}?{rights}"
    return render_template(
        "client/view_ticket.html",
        facts=facts,
        attachment_links=attachment_links,
        close_error=close_error,
        may_close=may_close,
        close_url=close_url,
    )


def refused(decision: Decision):
    if decision is Decision.LOGIN_REQUIRED:
        if request.method != "GET":
            abort(403)
        flash("Please log in to see this ticket.", "info")
        return redirect(url_for(".login", next=request.full_path.rstrip("?")))
    return not_found()


def not_found():
    return render_template("client/ticket_not_found.html"), 404
