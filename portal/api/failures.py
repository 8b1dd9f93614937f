"""api.php's answers when the request cannot be read, uses another method, or fails: always
WHMCS's envelope (`result=error` and a `message`) in the requested response type, never a page.
"""

from flask import Response, current_app, request
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    RequestEntityTooLarge,
)

from portal import error_pages
from portal.api import api, parameters
from portal.api.responses import Presenter, ResponseType
from portal.tickets.attachments import format_size

API_PATH = "/includes/api.php"
ALLOWED_METHODS = "GET, POST"
METHOD_NOT_ALLOWED = "Method Not Allowed: send the request with POST (or GET)"
INTERNAL_ERROR = "Internal error: nothing was stored. Please try again later."


def request_too_large_message() -> str:
    limit = format_size(int(current_app.config["MAX_CONTENT_LENGTH"]))
    return (
        f"Request too large: the body is over the {limit} this API accepts. "
        "Send fewer or smaller attachments."
    )


def unread_body_presenter() -> Presenter:
    """The answer's form from what could be read: the body's fields once they were parsed, else
    the query string's alone; WHMCS's default name=value text when neither names one."""
    fields = request.args
    # Werkzeug caches the parsed body; a body refused unread (or unparsable) is never read here.
    if "form" in request.__dict__:
        fields = parameters.request_fields(request.args, request.form)
    return Presenter(
        ResponseType.requested(fields.get("responsetype")),
        parameters.action_name(fields.get("action")),
    )


@api.errorhandler(RequestEntityTooLarge)
def request_too_large(error: RequestEntityTooLarge) -> Response:
    """A body over MAX_CONTENT_LENGTH, answered instead of dropping the connection."""
    return unread_body_presenter().error(request_too_large_message(), 413)


@api.app_errorhandler(MethodNotAllowed)
def method_not_allowed(error: MethodNotAllowed):
    """Any method but GET and POST at api.php; elsewhere the portal's own page."""
    if request.path != API_PATH:
        return error_pages.error_page(error)
    response = unread_body_presenter().error(METHOD_NOT_ALLOWED, 405)
    response.headers["Allow"] = ALLOWED_METHODS
    return response


@api.errorhandler(HTTPException)
def unreadable_request(error: HTTPException):
    """A body that cannot be parsed (a broken multipart body, say), in WHMCS's envelope."""
    if request.path != API_PATH or error.code is None or error.code < 400:
        return error_pages.error_page(error)
    message = f"{error.name}: {error.description}" if error.description else error.name
    return unread_body_presenter().error(message, error.code)


@api.errorhandler(InternalServerError)
def internal_error(error: InternalServerError):
    if request.path != API_PATH:
        return error_pages.error_page(error)
    return unread_body_presenter().error(INTERNAL_ERROR, 500)
