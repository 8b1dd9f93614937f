"""Viewing, downloading from and closing a ticket with its tid and access code; My tickets."""

from flask import abort, flash, redirect, render_template, request, url_for

from portal.client import client
from portal.client.acting import acting_account
from portal.downloads import attachment_download
from portal.extensions import db
from portal.identity import client_login_required, signed_in_user
from portal.models import Ticket
from portal.saving import Refused, commit
from portal.tickets.access import Decision, account_tickets, ticket_access, ticket_attachment
from portal.tickets.closing import (
    CLIENT_CLOSURE_PREVENTED,
    client_may_close,
    close_ticket_as_client,
)
from portal.tickets.departments import field_values_shown


@client.get("/viewticket.php")
@client.get("/viewticket")
def view_ticket():
    access = ticket_access(
        db.session(), request.args.get("tid"), request.args.get("c"), signed_in_user()
    )
    if access.ticket is None:
        return refused(access.decision)
    return render_ticket(access.ticket)


@client.get("/viewticket/attachment/<int:attachment_id>")
def download_attachment(attachment_id: int):
    access = ticket_access(
        db.session(), request.args.get("tid"), request.args.get("c"), signed_in_user()
    )
    if access.ticket is None:
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
    access = ticket_access(db.session(), tid, code, signed_in_user())
    if access.ticket is None:
        return refused(access.decision)
    if access.ticket.is_closed:
        return redirect(url_for(".view_ticket", tid=tid, c=code), 303)
    if not client_may_close(access.ticket):
        page = render_template(
            "client/close_ticket.html", ticket=access.ticket, close_error=CLIENT_CLOSURE_PREVENTED
        )
        return page, 403
    return render_template("client/close_ticket.html", ticket=access.ticket)


@client.post("/viewticket/close")
def close_ticket():
    tid, code = request.form.get("tid"), request.form.get("c")
    access = ticket_access(db.session(), tid, code, signed_in_user())
    if (ticket := access.ticket) is None:
        return refused(access.decision)
    try:
        closed = commit(db.session(), lambda: close_ticket_as_client(db.session(), ticket))
    except Refused as refusal:
        return render_ticket(ticket, close_error=refusal.message), refusal.status
    if closed:
        flash("The ticket is closed.", "success")
    return redirect(url_for(".view_ticket", tid=tid, c=code), 303)


@client.get("/tickets")
@client_login_required
def my_tickets():
    user = signed_in_user()
    assert user is not None  # client_login_required
    account = acting_account(user)
    if account is None and user.memberships:
        return redirect(url_for(".choose_account_page", next=request.path))
    tickets = account_tickets(db.session(), account.id) if account else []
    return render_template("client/my_tickets.html", account=account, tickets=tickets)


def render_ticket(ticket: Ticket, *, close_error: str | None = None) -> str:
    tid, code = ticket.tid, ticket.access_code
    links = [
        (a, url_for(".download_attachment", attachment_id=a.id, tid=tid, c=code))
        for a in ticket.attachments
    ]
    may_close = client_may_close(ticket)
    return render_template(
        "client/view_ticket.html",
        ticket=ticket,
        field_values=field_values_shown(ticket.custom_field_values, staff=False),
        attachment_links=links,
        close_error=close_error,
        may_close=may_close,
        close_url=url_for(".confirm_close_ticket", tid=tid, c=code) if may_close else None,
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
