"""POST /includes/api.php as WHMCS answers it, and the OpenAPI document describing it."""

import json
from collections.abc import Callable
from pathlib import Path

from flask import Response, current_app, request

from portal.api import api, parameters
from portal.api.authentication import AccessRefused, Caller, authorised_caller
from portal.api.body import ApiBody, Submitted, api_body
from portal.api.responses import Presenter, ResponseType
from portal.extensions import RateLimit, csrf, db, longest_wait
from portal.models import IdempotencyKey, StaffMember, Ticket
from portal.saving import Refused, commit
from portal.tickets import OpenTicketRequest, TicketSettings, idempotency, open_ticket

EMPTY_ACTION = "Empty action request"
COMMAND_NOT_FOUND = "Command Not Found"
TOO_MANY_FAILURES = "Too many refused requests; try again in {seconds} seconds"
KEY_TOO_LONG = f"Idempotency-Key is too long (at most {idempotency.MAX_KEY_LENGTH} characters)"
KEY_REUSED = (
    "Idempotency-Key was already used with different parameters; use a new key for a new request"
)
# The IETF idempotency draft's status for a key reused with another request.
KEY_REUSED_STATUS = 422
FAILURES_PER_IP = RateLimit("RATELIMIT_API_FAILURES_PER_IP")
FAILURES_PER_IDENTIFIER = RateLimit("RATELIMIT_API_FAILURES_PER_IDENTIFIER")
OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")


# Credentials, not a browser session, authenticate these requests, so CSRF does not apply.
@csrf.exempt
@api.route("/includes/api.php", methods=["POST"], provide_automatic_options=False)
def api_php() -> Response:
    """Check who is calling, then run the action they asked for."""
    with api_body(request) as body:
        return answer(body)


def answer(body: ApiBody) -> Response:
    # Who calls and how to answer, read at little memory: the whole form waits for a known
    # caller (portal/api/body.py). A repeated field counts with its last value, as in PHP.
    fields = body.first_fields
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
    # A base64 `attachments` field may be as large as the body itself.
    return run(caller, presenter, body.whole_form(current_app.config["MAX_CONTENT_LENGTH"]))


def open_ticket_action(caller: Caller, presenter: Presenter, submitted: Submitted) -> Response:
    """OpenTicket: the core decides; the caller's staff member opens it when admin is set."""
    key = parameters.idempotency_key(request.headers, submitted.fields)
    if key is not None:
        return open_ticket_once_action(caller, presenter, submitted, key)
    ticket_request = parameters.open_ticket_request(submitted.fields, submitted.files)
    settings = TicketSettings.from_config(current_app.config)
    staff = acting_staff(caller, ticket_request)
    try:
        ticket = commit(
            db.session(),
            lambda: open_ticket(db.session(), ticket_request, settings, acting_staff=staff),
        )
    except Refused as refused:
        return refusal(presenter, refused)
    return opened_answer(presenter, ticket)


def open_ticket_once_action(
    caller: Caller, presenter: Presenter, submitted: Submitted, key: str
) -> Response:
    """OpenTicket with an Idempotency-Key: a repeat gets the first answer and opens nothing.

    Only an answer that opened a ticket is kept; a refused request leaves the key unused.
    """
    if len(key) > idempotency.MAX_KEY_LENGTH:
        return presenter.error(KEY_TOO_LONG, 400)
    submission = idempotency.Submission(
        caller_scope(caller), key, parameters.fingerprint(submitted.form, submitted.files)
    )
    ticket_request = parameters.open_ticket_request(submitted.fields, submitted.files)
    settings = TicketSettings.from_config(current_app.config)
    staff = acting_staff(caller, ticket_request)

    def open_once() -> Response:
        outcome = idempotency.open_ticket_once(
            db.session(), submission, ticket_request, settings, acting_staff=staff
        )
        if outcome.repeated:
            return replay(outcome.record)
        response = opened_answer(presenter, outcome.ticket)
        idempotency.remember_response(
            outcome.record,
            response.status_code,
            response.content_type,
            response.get_data(as_text=True),
        )
        return response

    try:
        return commit(db.session(), open_once)
    except Refused as refused:
        return refusal(presenter, refused)
    except idempotency.KeyReused:
        db.session.rollback()
        return presenter.error(KEY_REUSED, KEY_REUSED_STATUS)


def refusal(presenter: Presenter, refused: Refused) -> Response:
    """WHMCS answers a broken rule with HTTP 200; a failed save is worth a retry (503)."""
    return presenter.error(refused.message, refused.status if refused.save_failed else 200)


def acting_staff(caller: Caller, ticket_request: OpenTicketRequest) -> StaffMember | None:
    """The caller's staff member, loaded only for `admin`, the one parameter that reads it."""
    return caller.staff() if ticket_request.admin else None


def caller_scope(caller: Caller) -> str:
    """Whose keys these are: one credential's, or one staff member's legacy login's."""
    if caller.credential_id is not None:
        return f"api-credential:{caller.credential_id}"
    return f"api-legacy-login:{caller.staff_id}"


def opened_answer(presenter: Presenter, ticket: Ticket) -> Response:
    # WHMCS sends the id as a string (see the spec's example response); typed clients expect that.
    return presenter.success({"id": str(ticket.id), "tid": ticket.tid, "c": ticket.access_code})


def replay(record: IdempotencyKey) -> Response:
    """The first answer to a key, as it was sent."""
    response = Response(
        record.response_body, record.response_status, content_type=record.response_content_type
    )
    response.headers["Idempotent-Replayed"] = "true"
    return response


ACTIONS: dict[str, Callable[[Caller, Presenter, Submitted], Response]] = {
    "openticket": open_ticket_action,
}


@api.get("/includes/api.openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of api.php, with this portal's address as the server."""
    document = {**_openapi_document(), "servers": [{"url": current_app.config["BASE_URL"]}]}
    return Response(json.dumps(document, indent=2), mimetype="application/json")


def _openapi_document() -> dict:
    return json.loads(OPENAPI_DOCUMENT.read_text(encoding="utf-8"))
