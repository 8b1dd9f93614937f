"""A ticket's staff page and its forms: reply, internal note, department, status, priority,
subject, and Close. The rules are the core's (portal.tickets); these only read the forms."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from werkzeug.datastructures import FileStorage

from portal.extensions import db
from portal.held_uploads import (
    HeldFile,
    HeldUploads,
    chosen_files,
    draft_of_post,
    new_draft_token,
    prune_expired_now_and_then,
)
from portal.identity import signed_in_staff, staff_required
from portal.models import Priority, StaffMember, Ticket, TicketStatus
from portal.rendering import render_message
from portal.saving import Refused, commit
from portal.staff import staff
from portal.staff.forms import (
    NoteForm,
    StaffReplyForm,
    TicketChangeForm,
    TicketComposeForm,
    form_errors,
)
from portal.staff.views import client_view_link, ticket_by_tid, ticket_settings
from portal.tickets import FieldError, IncomingFile, idempotency, queries
from portal.tickets.changes import close_ticket, update_ticket
from portal.tickets.departments import all_departments, field_values_shown

REPLY_SENT = "Your reply was added and emailed to the client."
REPLY_NOT_EMAILED = "Your reply was added; no email was sent."
NOTE_ADDED = "The internal note was added."
ALREADY_SENT = "This form had already been sent, so nothing was added twice. Here is the first."
TICKET_CHANGED = "The ticket was saved."
TICKET_CLOSED = "The ticket was closed."
ALREADY_CLOSED = "The ticket was closed already."


@dataclass
class Shown:
    """One of the page's forms as drawn: what was typed, its errors, its held files."""

    form: object
    errors: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str | None, str]] = field(default_factory=list)
    held_files: list[HeldFile] = field(default_factory=list)
    preview_html: Markup | None = None


@staff.get("/tickets/<tid>")
@staff_required
def ticket(tid: str):
    found = ticket_by_tid(tid, *queries.thread_loading(), *queries.notes_loading())
    return render_ticket_page(found)


@staff.post("/tickets/<tid>/reply")
@staff_required
def reply(tid: str):
    ticket = ticket_by_tid(tid)
    form = StaffReplyForm.from_post(request.form)
    result = compose_once(
        ticket,
        "reply",
        form,
        idempotency.STAFF_REPLY_FORM,
        lambda key, uploads, member: key.add_reply(
            ticket, form.reply_request(uploads), ticket_settings(), staff=member
        ),
    )
    if not isinstance(result, idempotency.Outcome):
        return result  # the page again: a preview, or the reply refused
    if not result.repeated:
        flash(REPLY_SENT if form.send_email else REPLY_NOT_EMAILED, "success")
    return back_to(result.ticket, f"reply-{result.reply.id}" if result.reply else None)


@staff.post("/tickets/<tid>/note")
@staff_required
def note(tid: str):
    ticket = ticket_by_tid(tid)
    form = NoteForm.from_post(request.form)
    result = compose_once(
        ticket,
        "note",
        form,
        idempotency.STAFF_NOTE_FORM,
        lambda key, uploads, member: key.add_note(
            ticket, form.note_request(uploads), ticket_settings(), staff=member
        ),
    )
    if not isinstance(result, idempotency.Outcome):
        return result
    if not result.repeated:
        flash(NOTE_ADDED, "success")
    return back_to(result.ticket, f"note-{result.note.id}" if result.note else None)


@staff.post("/tickets/<tid>/change")
@staff_required
def change_ticket(tid: str):
    ticket = ticket_by_tid(tid)
    form = TicketChangeForm.from_post(request.form)
    member = signed_in_staff()
    try:
        commit(
            db.session(),
            lambda: update_ticket(
                db.session(), ticket, form.change(), ticket_settings(), staff=member
            ),
        )
    except Refused as refusal:
        errors, summary = form_errors(refusal.errors)
        page = render_ticket_page(ticket, change=Shown(form, errors, summary))
        return page, refusal.status
    flash(TICKET_CHANGED, "success")
    return redirect(url_for(".ticket", tid=ticket.tid), 303)


@staff.post("/tickets/<tid>/close")
@staff_required
def close(tid: str):
    ticket = ticket_by_tid(tid)
    member = signed_in_staff()
    by = member.name if member is not None else ""
    try:
        closed = commit(db.session(), lambda: close_ticket(db.session(), ticket, by=by))
    except Refused as refusal:
        errors, summary = form_errors(refusal.errors)
        change = Shown(TicketChangeForm.of(ticket), errors, summary)
        page = render_ticket_page(ticket, change=change)
        return page, refusal.status
    flash(TICKET_CLOSED if closed else ALREADY_CLOSED, "success" if closed else "info")
    return redirect(url_for(".ticket", tid=ticket.tid), 303)


# Adds a reply or a note under a submission key, with the files given, by the staff member.
AddOnce = Callable[
    [idempotency.SubmissionKey, list[IncomingFile], StaffMember | None], idempotency.Outcome
]


def compose_once(
    ticket: Ticket, which: str, form: TicketComposeForm, scope: str, add: AddOnce
) -> idempotency.Outcome | ResponseReturnValue:
    """Add the form's reply or note once per draft, with its held and new files; the
    Outcome, or the page again (a preview, or the form refused with what was typed)."""
    form.draft = draft_of_post(session, form.draft)
    held = HeldUploads.for_draft(session, form.draft)
    held.remove(form.remove_held)
    new_files = chosen_files(request.files)
    if form.action == "preview":
        return form_again(ticket, which, form, held, new_files, show_preview=True)
    # The draft token is the submission key: a double click or a resent POST finds the first.
    key = idempotency.look_up(db.session(), idempotency.Submission(scope, form.draft))
    member = signed_in_staff()
    try:
        with held.with_new(new_files) as uploads:
            outcome = commit(db.session(), lambda: add(key, uploads, member))
    except Refused as refusal:
        return form_again(ticket, which, form, held, new_files, refusal)
    held.clear()
    prune_expired_now_and_then(held.root, current_app.config["HELD_UPLOADS_MAX_AGE"])
    if outcome.repeated:
        flash(ALREADY_SENT, "info")
    return outcome


def back_to(ticket: Ticket, anchor: str | None):
    return redirect(url_for(".ticket", tid=ticket.tid, _anchor=anchor), 303)


def form_again(
    ticket: Ticket,
    which: str,
    form: TicketComposeForm,
    held: HeldUploads,
    new_files: list[FileStorage],
    refusal: Refused | None = None,
    *,
    show_preview: bool = False,
) -> ResponseReturnValue:
    """The page with the reply or note as typed, its errors, and its files held for later."""
    not_kept = held.hold_all(new_files, ticket_settings())
    found: Sequence[FieldError] = [*(refusal.errors if refusal else []), *not_kept]
    errors, summary = form_errors(found)
    preview = render_message(form.message, form.markdown) if show_preview else None
    shown = Shown(form, errors, summary, held.files(), preview)
    page = render_ticket_page(ticket, **{which: shown})
    return page, refusal.status if refusal else 200


def render_ticket_page(
    ticket: Ticket,
    *,
    reply: Shown | None = None,
    note: Shown | None = None,
    change: Shown | None = None,
) -> str:
    """The ticket, its thread with the notes, and its forms: each fresh unless given."""
    entries = queries.thread(
        ticket, with_notes=True, newest_first=current_app.config["TICKET_REPLIES_NEWEST_FIRST"]
    )
    return render_template(
        "staff/ticket.html",
        ticket=ticket,
        entries=entries,
        field_values=field_values_shown(ticket.custom_field_values, staff=True),
        view_link=client_view_link(ticket),
        attachment_url=lambda file: url_for(
            "staff.attachment", tid=ticket.tid, attachment_id=file.id
        ),
        reply=reply or Shown(StaffReplyForm(draft=new_draft_token(session))),
        note=note or Shown(NoteForm(draft=new_draft_token(session))),
        change=change or Shown(TicketChangeForm.of(ticket)),
        departments=all_departments(db.session()),
        statuses=list(TicketStatus),
        priorities=list(Priority),
        settings=ticket_settings(),
    )
