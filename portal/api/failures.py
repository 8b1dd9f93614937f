"""api.php's answers when the request cannot be read or the ticket cannot be saved."""

from flask import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from portal.api import api
from portal.api.responses import Presenter, ResponseType
from portal.tickets.attachments import format_size


def request_too_large_message() -> str:
    limit = format_size(int(current_app.config["MAX_CONTENT_LENGTH"]))
    return (
        f"Request too large: the body is over the {limit} this API accepts. "
        "Send fewer or smaller attachments."
    )


@api.errorhandler(RequestEntityTooLarge)
def request_too_large(error: RequestEntityTooLarge) -> Response:
    """A body over MAX_CONTENT_LENGTH, answered instead of dropping the connection."""
    # The body is refused unread, so `responsetype` is known only when it came in the query
    # string; otherwise the answer is WHMCS's default name=value text.
    presenter = Presenter(ResponseType.requested(request.args.get("responsetype")), "")
    return presenter.error(request_too_large_message(), 413)
