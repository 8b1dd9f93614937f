"""Submit ticket: choose a department, fill in the form, see the ticket number and access code."""

import secrets

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.client import client
from portal.client.acting import acting_account, acting_accounts, needs_account_choice
from portal.client.forms import ComposeForm, FormErrors
from portal.client.guest_checks import (
    count_guest_ticket,
    guest_refusal,
    restamp_if_unusable,
    shown_stamp,
)
from portal.extensions import db
from portal.held_uploads import (
    HeldUploads,
    chosen_files,
    draft_of_post,
    new_draft_token,
    prune_expired_now_and_then,
)
from portal.identity import signed_in_user
from portal.mail import outbox
from portal.models import ClientAccount, Department, Priority, Ticket, User
from portal.saving import Refused, commit
from portal.tickets import TicketSettings, idempotency
from portal.tickets.departments import (
    department_with_fields,
    fields_filled_in,
    listed_departments,
    may_use_department,
)
from portal.tickets.parameters import row_id

OPENED_TICKETS_KEY = "opened_tickets"
OPENED_TICKETS_KEPT = 5
ALREADY_SENT = "This form had already been sent, so no second ticket was opened. Here is the first."


@client.get("/submitticket.php")
@client.get("/submitticket")
def submit_ticket():
    user = signed_in_user()
    deptid = request.args.get("deptid", type=int)
    if deptid is None:
        departments = listed_departments(db.session())
        if len(departments) == 1:
            return redirect(url_for(".submit_ticket", deptid=departments[0].id))
        return render_template("client/choose_department.html", departments=departments)
    department = department_with_fields(db.session(), row_id(deptid))
    if department is None:
        abort(404)
    if not may_use_department(department, user):
        flash(f"Please log in to contact {department.name}.", "info")
        return redirect(url_for(".login", next=request.full_path.rstrip("?")))
    if user is not None and needs_account_choice(user):
        return redirect(url_for(".choose_account_page", next=request.full_path.rstrip("?")))
    form = ComposeForm(deptid=department.id, draft=new_draft_token(session))
    if user is None:
        form.shown = shown_stamp(form.draft)
    elif (account := acting_account(user)) is not None:
        form.account_id = account.id
    return render_compose(form, FormErrors(), held_files=[], chosen=department)


@client.post("/submitticket.php")
@client.post("/submitticket")
def submit_ticket_post():
    user = signed_in_user()
    form = ComposeForm.from_request(request.form)
    form.draft = draft_of_post(session, form.draft)
    held = HeldUploads.for_draft(session, form.draft)
    held.remove(form.remove_held)
    new_files = chosen_files(request.files)
    shown = restamp_if_unusable(form) if user is None else 0.0
    if form.action != "submit":
        return compose_again(form, held, new_files, show_preview=form.action == "preview")
    # The draft token is the submission key: a double click or a resent POST finds the first
    # ticket. Only this session's drafts are looked up, so nobody reaches another's ticket.
    key = idempotency.look_up(
        db.session(), idempotency.Submission(idempotency.CLIENT_FORM, form.draft)
    )
    if key.earlier is not None:
        return show_opened(key.earlier.ticket, repeated=True)
    if user is None and (refusal := guest_refusal(form, shown)) is not None:
        return compose_again(form, held, new_files, Refused(refusal.errors, refusal.status))
    try:
        with held.with_new(new_files) as uploads:
            ticket_request = form.open_ticket_request(user, uploads)
            outcome = commit(
                db.session(), lambda: key.open_ticket(ticket_request, ticket_settings())
            )
    except Refused as refused:
        return compose_again(form, held, new_files, refused)
    if user is None and not outcome.repeated:
        count_guest_ticket(form)
    held.clear()
    prune_expired_now_and_then(held.root, current_app.config["HELD_UPLOADS_MAX_AGE"])
    return show_opened(outcome.ticket, repeated=outcome.repeated)


@client.get("/submitticket/fields")
def custom_fields_fragment():
    """The custom fields of one department, for the script that swaps them in."""
    department = department_with_fields(db.session(), row_id(request.args.get("deptid", type=int)))
    if department is None or not may_use_department(department, signed_in_user()):
        abort(404)
    return render_template(
        "client/_custom_fields.html",
        fields=fields_filled_in(department.custom_fields, staff=False),
        values={},
        errors=FormErrors(),
    )


@client.get("/submitticket/complete/<tid>")
def ticket_created(tid: str):
    """The confirmation; it only reads, so reloading it opens nothing."""
    code = dict(session.get(OPENED_TICKETS_KEY, [])).get(tid)
    if code is None:
        return redirect(url_for(".submit_ticket"))
    # Only this session knows the code: the address is shown to whoever opened the ticket.
    ticket = db.session.scalar(select(Ticket).where(Ticket.tid == tid))
    same = ticket is not None and secrets.compare_digest(ticket.access_code, code)
    return render_template(
        "client/ticket_created.html",
        tid=tid,
        code=code,
        view_url=url_for(".view_ticket", tid=tid, c=code),
        sent_to=outbox.confirmation_recipient(db.session(), ticket) if same and ticket else "",
    )


def show_opened(ticket: Ticket, *, repeated: bool):
    """The confirmation of the ticket the submission opened, or its first submission opened."""
    if repeated:
        flash(ALREADY_SENT, "info")
    opened = [pair for pair in session.get(OPENED_TICKETS_KEY, []) if pair[0] != ticket.tid]
    session[OPENED_TICKETS_KEY] = [*opened, [ticket.tid, ticket.access_code]][-OPENED_TICKETS_KEPT:]
    return redirect(url_for(".ticket_created", tid=ticket.tid), 303)


def compose_again(
    form: ComposeForm,
    held: HeldUploads,
    new_files: list[FileStorage],
    refused: Refused | None = None,
    *,
    show_preview: bool = False,
):
    """The form as sent, with its errors and every acceptable file it chose held for later."""
    not_kept = held.hold_all(new_files, ticket_settings())
    errors = FormErrors.from_field_errors([*(refused.errors if refused else []), *not_kept])
    page = render_compose(form, errors, held.files(), show_preview=show_preview)
    return page, refused.status if refused else 200


def render_compose(
    form: ComposeForm,
    errors: FormErrors,
    held_files: list,
    *,
    show_preview: bool = False,
    chosen: Department | None = None,
) -> str:
    """The compose page; `chosen` is the form's department when the caller has read it."""
    user = signed_in_user()
    if chosen is None:
        chosen = department_with_fields(db.session(), form.deptid)
    account = (
        next((a for a in acting_accounts(user) if a.id == form.account_id), None) if user else None
    )
    return render_template(
        "client/compose.html",
        form=form,
        departments=department_choices(chosen, user),
        fields=fields_filled_in(chosen.custom_fields, staff=False) if chosen else [],
        account=account,
        related_groups=related_choices(account),
        priorities=[p.value for p in Priority],
        errors=errors,
        held_files=held_files,
        settings=ticket_settings(),
        show_preview=show_preview,
    )


def department_choices(chosen: Department | None, user: User | None) -> list[Department]:
    """The departments the form offers, plus a hidden one reached by a direct link."""
    choices = [d for d in listed_departments(db.session()) if may_use_department(d, user)]
    if chosen is not None and chosen not in choices:
        choices.insert(0, chosen)
    return choices


def related_choices(account: ClientAccount | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The account's services (S<id>) and domains (D<id>), grouped for the form."""
    if account is None:
        return []
    groups = [
        ("Services", [(f"S{s.id}", s.label) for s in account.services]),
        ("Domains", [(f"D{d.id}", d.label) for d in account.domains]),
    ]
    return [(label, options) for label, options in groups if options]


def ticket_settings() -> TicketSettings:
    return TicketSettings.from_config(current_app.config)
