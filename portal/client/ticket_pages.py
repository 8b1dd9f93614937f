"""Viewing, replying to, downloading from and closing a ticket with its tid and access code;
My tickets."""

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.datastructures import FileStorage

from portal.client import client
from portal.client.acting import acting_account
from portal.client.forms import FormErrors, ReplyForm
from portal.client.submission import ticket_settings
from portal.downloads import attachment_download
from portal.extensions import RateLimit, db
from portal.held_uploads import (
    HeldUploads,
    chosen_files,
    draft_of_post,
    new_draft_token,
    prune_expired_now_and_then,
)
from portal.identity import client_login_required, signed_in_user
from portal.models import Ticket
from portal.saving import Refused, commit
from portal.tickets import FieldError, idempotency, queries, statuses
from portal.tickets.access import Decision, ticket_access, ticket_attachment
from portal.tickets.changes import (
    CLIENT_CLOSURE_PREVENTED,
    client_may_close,
    close_ticket_as_client,
)
from portal.tickets.departments import field_values_shown

TICKETS_PER_PAGE = 25
REPLY_SENT = "Your reply was sent."
# Each reply mails the department: a leaked access code must not become a mail cannon.
REPLIES_PER_IP = RateLimit("RATELIMIT_CLIENT_REPLIES_PER_IP")
TOO_MANY_REPLIES = "Too many replies have been sent from your network. Please try again later."


@client.get("/viewticket.php")
@client.get("/viewticket")
def view_ticket():
    access = ticket_access(
        db.session(), request.args.get("tid"), request.args.get("c"), signed_in_user()
    )
    if access.ticket is None:
        return refused(access.decision)
    form = ReplyForm(draft=new_draft_token(session))
    return render_ticket(access.ticket, form)


@client.post("/viewticket/reply")
def reply_to_ticket():
    form = ReplyForm.from_request(request.form)
    access = ticket_access(db.session(), form.tid, form.code, signed_in_user())
    if (ticket := access.ticket) is None:
        return refused(access.decision)
    form.draft = draft_of_post(session, form.draft)
    held = HeldUploads.for_draft(session, form.draft)
    held.remove(form.remove_held)
    new_files = chosen_files(request.files)
    if form.action == "preview":
        return reply_again(ticket, form, held, new_files, show_preview=True)
    if REPLIES_PER_IP.blocked_for(request.remote_addr or "") is not None:
        busy = Refused([FieldError((), TOO_MANY_REPLIES)], 429)
        return reply_again(ticket, form, held, new_files, busy)
    # The draft token is the submission key: a resent POST finds the first reply.
    key = idempotency.look_up(
        db.session(), idempotency.Submission(idempotency.CLIENT_REPLY_FORM, form.draft)
    )
    try:
        with held.with_new(new_files) as uploads:
            reply_request = form.reply_request(signed_in_user(), uploads)
            outcome = commit(
                db.session(), lambda: key.add_reply(ticket, reply_request, ticket_settings())
            )
    except Refused as refusal:
        return reply_again(ticket, form, held, new_files, refusal)
    held.clear()
    if not outcome.repeated:
        REPLIES_PER_IP.count(request.remote_addr or "")
    prune_expired_now_and_then(held.root, current_app.config["HELD_UPLOADS_MAX_AGE"])
    flash(REPLY_SENT, "success")
    reply_id = outcome.reply.id if outcome.reply else 0
    return redirect(
        url_for(".view_ticket", tid=ticket.tid, c=ticket.access_code, _anchor=f"reply-{reply_id}"),
        303,
    )


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
    user = signed_in_user()
    access = ticket_access(db.session(), tid, code, user)
    if (ticket := access.ticket) is None:
        return refused(access.decision)
    by = user.name if user is not None else ticket.name
    try:
        commit(db.session(), lambda: close_ticket_as_client(db.session(), ticket, by=by))
    except Refused as refusal:
        form = ReplyForm(draft=new_draft_token(session))
        return render_ticket(ticket, form, close_error=refusal.message), refusal.status
    # The page itself says that the ticket is closed; no second message.
    return redirect(url_for(".view_ticket", tid=tid, c=code), 303)


@client.get("/tickets")
@client_login_required
def my_tickets():
    user = signed_in_user()
    assert user is not None  # client_login_required
    account = acting_account(user)
    if account is None and user.memberships:
        return redirect(url_for(".choose_account_page", next=request.path))
    status_filter = request.args.get("status", statuses.ALL_ACTIVE)
    search = request.args.get("q", "").strip()[:100]
    page = None
    if account is not None:
        listed = queries.client_ticket_list(account.id, status_filter=status_filter, search=search)
        page = db.paginate(
            listed, per_page=TICKETS_PER_PAGE, max_per_page=TICKETS_PER_PAGE, error_out=False
        )
    return render_template(
        "client/my_tickets.html",
        account=account,
        page=page,
        filters=statuses.FILTER_NAMES,
        status_filter=status_filter,
        search=search,
        query={k: v for k, v in (("status", status_filter), ("q", search)) if v},
    )


def reply_again(
    ticket: Ticket,
    form: ReplyForm,
    held: HeldUploads,
    new_files: list[FileStorage],
    refusal: Refused | None = None,
    *,
    show_preview: bool = False,
):
    """The ticket page with the reply as typed, its errors, and its files held for later."""
    not_kept = held.hold_all(new_files, ticket_settings())
    errors = FormErrors.from_field_errors([*(refusal.errors if refusal else []), *not_kept])
    page = render_ticket(ticket, form, errors, held.files(), show_preview=show_preview)
    return page, refusal.status if refusal else 200


def render_ticket(
    ticket: Ticket,
    form: ReplyForm,
    errors: FormErrors | None = None,
    held_files: list | None = None,
    *,
    show_preview: bool = False,
    close_error: str | None = None,
) -> str:
    tid, code = ticket.tid, ticket.access_code
    may_close = client_may_close(ticket)
    entries = queries.thread(
        ticket,
        with_notes=False,
        newest_first=current_app.config["TICKET_REPLIES_NEWEST_FIRST"],
    )
    return render_template(
        "client/view_ticket.html",
        ticket=ticket,
        entries=entries,
        field_values=field_values_shown(ticket.custom_field_values, staff=False),
        attachment_url=lambda a: url_for(
            ".download_attachment", attachment_id=a.id, tid=tid, c=code
        ),
        close_error=close_error,
        may_close=may_close,
        close_url=url_for(".confirm_close_ticket", tid=tid, c=code) if may_close else None,
        form=form,
        errors=errors or FormErrors(),
        held_files=held_files or [],
        show_preview=show_preview,
        settings=ticket_settings(),
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
