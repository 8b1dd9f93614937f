"""The staff area's pages: sign in, the ticket list, and Open New Ticket (a ticket's own page
and its forms are in ticket_pages)."""

from collections.abc import Sequence
from urllib.parse import urlencode

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from portal.downloads import attachment_download
from portal.extensions import db
from portal.held_uploads import (
    HeldUploads,
    chosen_files,
    draft_of_post,
    new_draft_token,
    prune_expired_now_and_then,
)
from portal.identity import (
    LoginRefused,
    log_in,
    log_out,
    safe_next,
    signed_in_staff,
    staff_by_username,
    staff_required,
)
from portal.models import Attachment, ClientAccount, Priority, Ticket, TicketStatus
from portal.rendering import render_message
from portal.saving import Refused, commit
from portal.staff import staff
from portal.staff.client_search import (
    choices_summary,
    client_choices,
    client_label,
    client_summary,
    find_clients,
)
from portal.staff.forms import OpenTicketForm, form_errors
from portal.tickets import FieldError, TicketSettings, idempotency, statuses
from portal.tickets.departments import all_departments, department_with_fields
from portal.tickets.parameters import row_id
from portal.tickets.queries import page_number, staff_ticket_list

TICKETS_PER_PAGE = 25
MAX_SEARCH = 100
# The list's status filter: WHMCS's pseudo-statuses first, then each status ("" is any status).
STATUS_FILTERS = {
    statuses.AWAITING: "Awaiting reply (Open and Customer-Reply)",
    statuses.ALL_ACTIVE: "All active (not Closed)",
} | {status.value: status.value for status in TicketStatus}
LOGIN_REFUSED = "Incorrect username or password."
ALREADY_SENT = "This form had already been sent, so no second ticket was opened. Here is the first."


@staff.context_processor
def staff_template_context() -> dict:
    return {"signed_in_staff": signed_in_staff}


def ticket_settings() -> TicketSettings:
    return TicketSettings.from_config(current_app.config)


@staff.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next"))
    if signed_in_staff() is not None:
        return redirect(target or url_for("staff.tickets"))
    username = request.form.get("username", "").strip()
    if request.method == "GET":
        return render_template("staff/login.html", error=None, username="", next=target)
    password = request.form.get("password", "")
    try:
        log_in(
            lambda: staff_by_username(username), username.lower(), password, refused=LOGIN_REFUSED
        )
    except LoginRefused as refused:
        page = render_template(
            "staff/login.html", error=refused.message, username=username, next=target
        )
        return page, refused.status
    return redirect(target or url_for("staff.tickets"))


@staff.post("/logout")
@staff_required
def logout():
    log_out()
    return redirect(url_for("staff.login"))


@staff.get("")
@staff.get("/")
@staff_required
def tickets():
    # Ids and page numbers past any real one (or not numbers) name nothing, not a server error.
    deptid = row_id(request.args.get("deptid"))
    status = request.args.get("status", "")
    status = status if status in STATUS_FILTERS else ""
    search = request.args.get("q", "").strip()[:MAX_SEARCH]
    page = db.paginate(
        staff_ticket_list(department_id=deptid, status_filter=status, search=search),
        page=page_number(request.args.get("page", type=int), TICKETS_PER_PAGE),
        per_page=TICKETS_PER_PAGE,
        max_per_page=TICKETS_PER_PAGE,
        error_out=False,
    )
    chosen = (("deptid", deptid), ("status", status), ("q", search))
    return render_template(
        "staff/tickets.html",
        page=page,
        departments=all_departments(db.session()),
        status_filters=STATUS_FILTERS,
        deptid=deptid,
        status=status,
        search=search,
        filters={key: value for key, value in chosen if value},
    )


@staff.get("/tickets/<tid>/created")
@staff_required
def ticket_created(tid: str):
    found = ticket_by_tid(tid)
    return render_template("staff/created.html", ticket=found, view_link=client_view_link(found))


@staff.get("/tickets/<tid>/attachments/<int(max=2147483647):attachment_id>")
@staff_required
def attachment(tid: str, attachment_id: int):
    found = db.session.scalar(
        select(Attachment)
        .join(Ticket)
        .where(Attachment.id == attachment_id, Ticket.tid == tid.replace("\x00", ""))
    )
    if found is None:
        abort(404)
    return attachment_download(found) or abort(404)


@staff.get("/clients/search")
@staff_required
def client_search():
    clients = find_clients(db.session(), request.args.get("q", ""))
    return jsonify(clients=[client_summary(client) for client in clients])


@staff.get("/clients/<int(max=2147483647):client_id>/choices")
@staff_required
def client_choices_json(client_id: int):
    client = db.session.get(ClientAccount, client_id)
    if client is None:
        abort(404)
    return jsonify(choices_summary(client_choices(client)))


@staff.get("/tickets/new")
@staff_required
def new_ticket():
    form = OpenTicketForm(draft=new_draft_token(session))
    return render_new_ticket(form, HeldUploads.for_draft(session, form.draft))


@staff.post("/tickets/new")
@staff_required
def new_ticket_post():
    form = OpenTicketForm.from_post(request.form)
    form.draft = draft_of_post(session, form.draft)
    held = HeldUploads.for_draft(session, form.draft)
    held.remove(form.remove_held)
    new_files, settings = chosen_files(request.files), ticket_settings()
    if form.action != "open":
        return render_new_ticket(form, held, held.hold_all(new_files, settings))
    # The draft token is the submission key: a double click or a resent POST finds the first
    # ticket instead of opening a second.
    submission = idempotency.Submission(idempotency.STAFF_FORM, form.draft)
    staff_member = signed_in_staff()
    try:
        with held.with_new(new_files) as uploads:
            ticket_request = form.ticket_request(uploads)
            outcome = commit(
                db.session(),
                lambda: idempotency.open_ticket_once(
                    db.session(), submission, ticket_request, settings, acting_staff=staff_member
                ),
            )
    except Refused as refused:
        not_kept = held.hold_all(new_files, settings)  # this try's: the others are held still
        return render_new_ticket(form, held, [*refused.errors, *not_kept]), refused.status
    held.clear()
    prune_expired_now_and_then(held.root, current_app.config["HELD_UPLOADS_MAX_AGE"])
    if outcome.repeated:
        flash(ALREADY_SENT, "info")
    return redirect(url_for("staff.ticket_created", tid=outcome.ticket.tid), code=303)


@staff.get("/tickets/new/fields")
@staff_required
def custom_fields_fragment():
    """A department's custom fields, admin-only ones included, for the script that swaps them in."""
    department = department_with_fields(db.session(), row_id(request.args.get("deptid", type=int)))
    if department is None:
        abort(404)
    return render_template(
        "staff/_custom_fields.html", fields=department.custom_fields, values={}, errors={}
    )


def render_new_ticket(
    form: OpenTicketForm, held: HeldUploads, errors: Sequence[FieldError] = ()
) -> str:
    client_key = row_id(form.clientid)
    chosen = db.session.get(ClientAccount, client_key) if client_key else None
    matches = find_clients(db.session(), form.query) if form.query.strip() else []
    if chosen is not None and chosen not in matches:
        matches.insert(0, chosen)
    choices = client_choices(chosen) if chosen is not None else None
    if choices is not None and not form.requestor:
        form.requestor = choices.default_requestor
    departments = all_departments(db.session())
    department = department_with_fields(db.session(), row_id(form.deptid))
    field_errors, summary = form_errors(errors)
    return render_template(
        "staff/new_ticket.html",
        form=form,
        chosen=chosen,
        matches=[(client.id, client_label(client)) for client in matches],
        searched=form.action == "search",
        preview_html=render_message(form.message, form.markdown)
        if form.action == "preview"
        else None,
        choices=choices,
        departments=departments,
        custom_fields=department.custom_fields if department else [],
        priorities=list(Priority),
        held_files=held.files(),
        errors=field_errors,
        summary=summary,
        settings=ticket_settings(),
    )


def ticket_by_tid(tid: str, *options) -> Ticket:
    # A NUL cannot be in a tid, and PostgreSQL refuses to compare one.
    statement = select(Ticket).where(Ticket.tid == tid.replace("\x00", "")).options(*options)
    found = db.session.scalar(statement)
    if found is None:
        abort(404)
    return found


def client_view_link(ticket: Ticket) -> str:
    """The link a client opens the ticket with, to paste into a reply."""
    query = urlencode({"tid": ticket.tid, "c": ticket.access_code})
    return f"{current_app.config['BASE_URL'].rstrip('/')}/viewticket?{query}"
