"""POST /includes/api.php as WHMCS answers it, and the OpenAPI document describing it."""

import functools
import json
from collections.abc import Callable
from pathlib import Path

from flask import Response, current_app, request

from portal.api import api, parameters
from portal.api.authentication import AccessRefused, Caller, authorised_caller
from portal.api.responses import Presenter, ResponseType
from portal.extensions import csrf, db
from portal.tickets import OpenTicketError, TicketSettings, open_ticket

EMPTY_ACTION = "Empty action request"
COMMAND_NOT_FOUND = "Command Not Found"
OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")


# Credentials, not a browser session, authenticate these requests, so CSRF does not apply.
@csrf.exempt
@api.route("/includes/api.php", methods=["POST"], provide_automatic_options=False)
def api_php() -> Response:
    """Check who is calling, then run the action they asked for."""
    # A base64 `attachments` field in a multipart body may be as large as the body itself.
    request.max_form_memory_size = current_app.config["MAX_CONTENT_LENGTH"]
    form = request.form
    action = parameters.action_name(form.get("action"))
    presenter = Presenter(ResponseType.requested(form.get("responsetype")), action)
    try:
        caller = authorised_caller(form, request.remote_addr, current_app.config)
    except AccessRefused as refused:
        return presenter.error(refused.message, 403)
    if not action:
        return presenter.error(EMPTY_ACTION, 400)
    run = ACTIONS.get(action)
    if run is None:
        return presenter.error(COMMAND_NOT_FOUND, 400)
    return run(caller, presenter)


def open_ticket_action(caller: Caller, presenter: Presenter) -> Response:
    """OpenTicket: the core decides; the caller's staff member opens it when admin is set."""
    ticket_request = parameters.open_ticket_request(request.form, request.files)
    settings = TicketSettings.from_config(current_app.config)
    try:
        opened = open_ticket(db.session, ticket_request, settings, acting_staff=caller.staff)
    except OpenTicketError as refused:
        db.session.rollback()
        return presenter.error(refused.message)
    db.session.commit()
    # WHMCS sends the id as a string (see the spec's example response); typed clients expect that.
    return presenter.success({"id": str(opened.id), "tid": opened.tid, "c": opened.c})


ACTIONS: dict[str, Callable[[Caller, Presenter], Response]] = {
    "openticket": open_ticket_action,
}


@api.get("/includes/api.openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of api.php, with this portal's address as the server."""
    document = {**_openapi_document(), "servers": [{"url": current_app.config["BASE_URL"]}]}
    return Response(json.dumps(document, indent=2), mimetype="application/json")


@functools.cache
def _openapi_document() -> dict:
    return json.loads(OPENAPI_DOCUMENT.read_text(encoding="utf-8"))
