"""/includes/api.php as WHMCS answers it, and the OpenAPI document describing it."""

import json
from pathlib import Path

from flask import Response, current_app, request
from werkzeug.datastructures import MultiDict

from portal.api import api, conversation, parameters, reading
from portal.api.authentication import AccessRefused, Caller, authorised_caller
from portal.api.body import ApiBody, api_body
from portal.api.calls import (
    KEY_REUSED,
    KEY_TOO_LONG,
    Action,
    Call,
    remembered,
    replay,
    saved,
    submission_key,
)
from portal.api.calls import once as once_with_key
from portal.api.permissions import NOT_ALLOWED, NOT_ALLOWED_STATUS
from portal.api.responses import Presenter, ResponseType
from portal.extensions import RateLimit, csrf, db, longest_wait
from portal.models import StaffMember, Ticket
from portal.tickets import OpenTicketRequest, idempotency, open_ticket

__all__ = ["ACTIONS", "KEY_REUSED", "KEY_TOO_LONG"]

EMPTY_ACTION = "Empty action request"
COMMAND_NOT_FOUND = "Command Not Found"
TOO_MANY_FAILURES = "Too many refused requests; try again in {seconds} seconds"
FAILURES_PER_IP = RateLimit("RATELIMIT_API_FAILURES_PER_IP")
FAILURES_PER_IDENTIFIER = RateLimit("RATELIMIT_API_FAILURES_PER_IDENTIFIER")
OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")
API_PATH = "/includes/api.php"
# WHMCS reads $_REQUEST, so GET works as POST does (POST stays the documented way); other
# methods get WHMCS's envelope from failures.py.
METHODS = ["GET", "POST"]


# Credentials, not a browser session, authenticate these requests, so CSRF does not apply.
@csrf.exempt
@api.route(API_PATH, methods=METHODS, provide_automatic_options=False)
def api_php() -> Response:
    """Check who is calling, then run the action they asked for."""
    with api_body(request) as body:
        return answer(body)


def answer(body: ApiBody) -> Response:
    # Who calls and how to answer, read at little memory: the whole form waits for a known
    # caller (portal/api/body.py). The query string counts too, the body winning, as in PHP's
    # $_REQUEST; a repeated field counts with its last value.
    fields = parameters.last_values(
        parameters.request_fields(request.args, MultiDict(body.first_fields))
    )
    action = parameters.action_name(fields.get("action"))
    presenter = Presenter(ResponseType.requested(fields.get("responsetype")), action)
    address = request.remote_addr or ""
    identifier = fields.get("identifier") or fields.get("username") or ""
    # Checked before the secret, so that guessing on gains nothing once the limit is reached.
    wait = longest_wait((FAILURES_PER_IP, address), (FAILURES_PER_IDENTIFIER, identifier))
    if wait is not None:
        response = presenter.error(TOO_MANY_FAILURES.format(seconds=wait), 429)
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        caller = authorised_caller(fields, request.remote_addr, current_app.config)
    except AccessRefused as refused:
        FAILURES_PER_IP.count(address)
        FAILURES_PER_IDENTIFIER.count(identifier)
        return presenter.error(refused.message, 403)
    if not action:
        return presenter.error(EMPTY_ACTION, 400)
    run = ACTIONS.get(action)
    if run is None:
        return presenter.error(COMMAND_NOT_FOUND, 400)
    if action not in caller.actions:
        return presenter.error(NOT_ALLOWED.format(action=action), NOT_ALLOWED_STATUS)
    # A base64 `attachments` field may be as large as the body itself.
    submitted = body.whole_form(current_app.config["MAX_CONTENT_LENGTH"])
    all_fields = parameters.request_fields(request.args, submitted.form)
    return run(
        Call(caller, presenter, parameters.last_values(all_fields), all_fields, submitted.files)
    )


def open_ticket_action(call: Call) -> Response:
    """OpenTicket: the core decides; the caller's staff member opens it when admin is set."""
    ticket_request = parameters.open_ticket_request(call.fields, call.files)
    settings = call.settings
    staff = acting_staff(call.caller, ticket_request)
    key = submission_key(call)
    if key is not None:

        def open_once(looked_up: idempotency.SubmissionKey) -> Response:
            outcome = looked_up.open_ticket(ticket_request, settings, acting_staff=staff)
            if outcome.repeated:
                return replay(outcome.record)
            return remembered(outcome.record, opened_answer(call.presenter, outcome.ticket))

        return once_with_key(call, key, open_once)

    def open_now() -> Response:
        ticket = open_ticket(db.session(), ticket_request, settings, acting_staff=staff)
        return opened_answer(call.presenter, ticket)

    return saved(call, open_now)


def acting_staff(caller: Caller, ticket_request: OpenTicketRequest) -> StaffMember | None:
    """The caller's staff member, loaded only for `admin`, the one parameter that reads it."""
    return caller.staff() if ticket_request.admin else None


def opened_answer(presenter: Presenter, ticket: Ticket) -> Response:
    # WHMCS sends the id as a string (see the spec's example response); typed clients expect that.
    return presenter.success({"id": str(ticket.id), "tid": ticket.tid, "c": ticket.access_code})


ACTIONS: dict[str, Action] = {
    "openticket": open_ticket_action,
    **reading.ACTIONS,
    **conversation.ACTIONS,
}


@api.get("/includes/api.openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of api.php, with this portal's address as the server."""
    document = {**_openapi_document(), "servers": [{"url": current_app.config["BASE_URL"]}]}
    return Response(json.dumps(document, indent=2), mimetype="application/json")


def _openapi_document() -> dict:
    return json.loads(OPENAPI_DOCUMENT.read_text(encoding="utf-8"))
