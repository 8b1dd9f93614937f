"""The WHMCS-compatible HTTP API at /includes/api.php."""

from flask import Blueprint

from portal import log_redaction

api = Blueprint("api", __name__)

# WHMCS takes credentials in the query string too: whatever logs request lines (the development
# server, gunicorn's access and error logs, the app) writes them redacted.
REDACTED_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "portal")


@api.record_once
def _redact_credentials_in_logs(state) -> None:
    log_redaction.install(*REDACTED_LOGGERS)


# The modules register their views and error handlers on the blueprint.
from portal.api import failures, views  # noqa: E402, F401
