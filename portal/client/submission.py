"""Submit ticket: choose a department, fill in the form, see the ticket number and access code."""

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf
from sqlalchemy import Row
from werkzeug.datastructures import FileStorage

from portal.client import client
from portal.client.acting import acting_account, acting_accounts
from portal.client.forms import ComposeForm, FormErrors
from portal.client.guest_checks import guest_refusal, restamp_if_unusable, shown_stamp
from portal.client.kept_pages import UNCHANGED_BY_URL_QUOTING, kept_page
from portal.client.recent_departments import recent_form_departments
from portal.extensions import db
from portal.held_uploads import (
    HeldUploads,
    new_draft_token,
    owns_draft,
    prune_expired_now_and_then,
)
from portal.identity import signed_in_user
from portal.models import ClientAccount, Priority, User
from portal.saving import SaveFailed, saving
from portal.tickets import (
    FieldError,
    IncomingFile,
    OpenTicketError,
    TicketSettings,
    idempotency,
)
from portal.tickets.access import (
    FormDepartments,
    chosen_department,
    form_departments,
    listed_departments,
    may_use_department,
)
from portal.tickets.departments import department_rules
from portal.tickets.parameters import row_id

LOGIN_TO_USE = "Log in to contact this department"
NOT_YOUR_ACCOUNT = "Choose one of your own accounts"
OPENED_TICKETS_KEY = "opened_tickets"
OPENED_TICKETS_KEPT = 5
ALREADY_SENT = "This form had already been sent, so no second ticket was opened. Here is the first."


@client.get("/submitticket.php")
@client.get("/submitticket")
def submit_ticket():
    user = signed_in_user()
    deptid = request.args.get("deptid", type=int)
    if deptid is None:
        departments = listed_departments(db.session)
        if len(departments) == 1:
            return redirect(url_for(".submit_ticket", deptid=departments[0].id))
        return render_template("client/choose_department.html", departments=departments)
    offered = recent_form_departments(row_id(deptid))
    if (department := offered.chosen) is None:
        abort(404)
    if not may_use_department(department, user):
        flash(f"Please log in to contact {department.name}.", "info")
        return redirect(url_for(".login", next=request.full_path.rstrip("?")))
    if user is not None and needs_account_choice(user):
        return redirect(url_for(".choose_account_page", next=request.full_path.rstrip("?")))
    form = ComposeForm(deptid=department.id, draft=new_draft_token(session))
    if user is None:
        form.shown = shown_stamp(form.draft)
        return blank_guest_form(form, offered)
    if (account := acting_account(user)) is not None:
        form.account_id = account.id
    return render_compose(form, offered, FormErrors(), held_files=[])


@client.post("/submitticket.php")
@client.post("/submitticket")
def submit_ticket_post():
    user = signed_in_user()
    form = ComposeForm.from_request(request.form)
    if not owns_draft(session, form.draft):
        form.draft = new_draft_token(session)
    # The draft token is the submission key: a double click or a resent POST finds the first
    # ticket. Only this session's drafts are looked up, so nobody reaches another's ticket.
    # Read with the department's rules, the core's own read: opening the ticket reuses them.
    key = idempotency.look_up(
        db.session,
        idempotency.Submission(idempotency.CLIENT_FORM, form.draft),
        department_id=form.deptid,
    )
    department = department_rules(db.session, form.deptid)
    account, refusals = requester_account(form, user)
    if department is not None and not may_use_department(department, user):
        refusals.append(FieldError(("deptid",), LOGIN_TO_USE))
    held = HeldUploads.for_draft(Path(current_app.config["HELD_UPLOADS_DIR"]), session, form.draft)
    held.remove(form.remove_held)
    new_files = [upload for upload in request.files.getlist("attachments") if upload.filename]
    settings = ticket_settings()

    if user is None:
        shown = restamp_if_unusable(form)
    if refusals or form.action != "submit":
        hold_all(held, new_files, settings)
        return render_compose_again(
            form,
            FormErrors.from_field_errors(refusals),
            held.files(),
            show_preview=form.action == "preview",
            status=422 if refusals else 200,
        )
    if (earlier := key.earlier) is not None:
        return show_opened(earlier.tid, earlier.access_code, repeated=True)
    if user is None and (refusal := guest_refusal(form, shown)) is not None:
        hold_all(held, new_files, settings)
        errors = FormErrors.from_field_errors(refusal.errors)
        return render_compose_again(form, errors, held.files(), status=refusal.status)
    try:
        with saving(db.session), ExitStack() as open_files:
            uploads = held.open_all(open_files) + [
                IncomingFile(upload.filename, upload.stream) for upload in new_files
            ]
            outcome = key.open_ticket(form.open_ticket_request(user, account, uploads), settings)
            db.session.commit()
    except OpenTicketError as refused:
        db.session.rollback()
        hold_all(held, new_files, settings)
        errors = FormErrors.from_field_errors(refused.errors)
        return render_compose_again(form, errors, held.files(), status=422)
    except SaveFailed as failure:
        hold_all(held, new_files, settings)
        errors = FormErrors.from_field_errors(failure.errors)
        return render_compose_again(form, errors, held.files(), status=503)
    held.clear()
    prune_expired_now_and_then(held.directory.parent, current_app.config["HELD_UPLOADS_MAX_AGE"])
    return show_opened(outcome.tid, outcome.access_code, repeated=outcome.repeated)


@client.get("/submitticket/fields")
def custom_fields_fragment():
    """The custom fields of one department, for the script that swaps them in."""
    offered = chosen_department(db.session, row_id(request.args.get("deptid", type=int)))
    if offered.chosen is None or not may_use_department(offered.chosen, signed_in_user()):
        abort(404)
    return render_template(
        "client/_custom_fields.html",
        fields=offered.chosen_fields,
        values={},
        errors=FormErrors(),
    )


@client.get("/submitticket/complete/<tid>")
def ticket_created(tid: str):
    """The confirmation; it only reads, so reloading it opens nothing."""
    code = dict(session.get(OPENED_TICKETS_KEY, [])).get(tid)
    if code is None:
        return redirect(url_for(".submit_ticket"))
    return confirmation_page(tid, code)


def confirmation_page(tid: str, code: str) -> str:
    """The new ticket's number and code; a guest's page is cut from the one the worker keeps."""
    values = {"tid": tid, "code": code}
    # Kept only for values that URL quoting leaves as they are: the view link carries them
    # quoted, and a kept page is filled with HTML escaping alone.
    if signed_in_user() is None and all(map(UNCHANGED_BY_URL_QUOTING.fullmatch, values.values())):
        key = (request.script_root, "client/ticket_created.html")
        return kept_page(key, values, render_confirmation)
    return render_confirmation(values)


def render_confirmation(shown: Mapping[str, str]) -> str:
    tid, code = shown["tid"], shown["code"]
    return render_template(
        "client/ticket_created.html",
        tid=tid,
        code=code,
        view_url=url_for(".view_ticket", tid=tid, c=code),
    )


def show_opened(tid: str, code: str, *, repeated: bool):
    """The confirmation of the ticket the submission opened, or its first submission opened."""
    if repeated:
        flash(ALREADY_SENT, "info")
    remember_opened(tid, code)
    return redirect(url_for(".ticket_created", tid=tid), 303)


def needs_account_choice(user: User) -> bool:
    return acting_account(user) is None and len(acting_accounts(user)) > 1


def requester_account(
    form: ComposeForm, user: User | None
) -> tuple[ClientAccount | None, list[FieldError]]:
    """The account the form was shown for, which must still be one of the user's."""
    if user is None:
        return None, []
    accounts = acting_accounts(user)
    if not accounts:
        return None, []
    account = next((a for a in accounts if a.id == form.account_id), None)
    if account is None:
        return None, [FieldError(("account",), NOT_YOUR_ACCOUNT)]
    return account, []


def hold_all(held: HeldUploads, uploads: list[FileStorage], settings: TicketSettings) -> None:
    for upload in uploads:
        held.hold(upload, settings)


def remember_opened(tid: str, code: str) -> None:
    opened = [pair for pair in session.get(OPENED_TICKETS_KEY, []) if pair[0] != tid]
    session[OPENED_TICKETS_KEY] = [*opened, [tid, code]][-OPENED_TICKETS_KEPT:]


def ticket_settings() -> TicketSettings:
    return TicketSettings.from_config(current_app.config)


def department_choices(offered: FormDepartments, user: User | None) -> list[Row]:
    """The departments the form offers, plus a hidden one reached by a direct link."""
    choices = [d for d in offered.listed if may_use_department(d, user)]
    if offered.chosen is not None and offered.chosen not in choices:
        choices.insert(0, offered.chosen)
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


def blank_guest_form(form: ComposeForm, offered: FormDepartments) -> str:
    """A guest's empty form, as render_compose() makes it, cut from the worker's kept page."""

    def render(shown: Mapping[str, str]) -> str:
        page_form = replace(form, draft=shown["draft"], shown=shown["shown"])
        return render_compose(
            page_form, offered, FormErrors(), held_files=[], csrf_token=shown["csrf_token"]
        )[0]

    # Everything the blank page is made of but its hidden values, the department rows it shows
    # included, so that an operator's change shows once those rows are read again.
    key = (
        request.script_root,
        ticket_settings(),
        tuple(offered.listed),
        offered.chosen,
        tuple(offered.field_rows),
    )
    values = {"csrf_token": generate_csrf(), "draft": form.draft, "shown": form.shown}
    return kept_page(key, values, render)


def render_compose_again(form: ComposeForm, errors: FormErrors, held_files: list, **options):
    """The form sent back with its errors; only now are the departments to offer read."""
    offered = form_departments(db.session, form.deptid)
    return render_compose(form, offered, errors, held_files, **options)


def render_compose(
    form: ComposeForm,
    offered: FormDepartments,
    errors: FormErrors,
    held_files: list,
    *,
    show_preview: bool = False,
    status: int = 200,
    csrf_token: str | None = None,
):
    """The compose page; `csrf_token` stands in for this session's token on a page kept."""
    user = signed_in_user()
    account = (
        next((a for a in acting_accounts(user) if a.id == form.account_id), None) if user else None
    )
    return render_template(
        "client/compose.html",
        form=form,
        departments=department_choices(offered, user),
        fields=offered.chosen_fields,
        account=account,
        related_groups=related_choices(account),
        priorities=[p.value for p in Priority],
        errors=errors,
        held_files=held_files,
        settings=ticket_settings(),
        show_preview=show_preview,
        csrf_token_value=csrf_token or generate_csrf(),
    ), status
