"""The WHMCS-compatible HTTP API at /includes/api.php."""

from flask import Blueprint

from portal import log_redaction

api = Blueprint("api", __name__)


@api.record_once
def _redact_credentials_in_logs(state) -> None:
    # WHMCS takes credentials in the query string too: whatever logs request lines (the
    # development server, gunicorn's access and error logs, the app) writes them redacted.
    log_redaction.install()


# The modules register their views and error handlers on the blueprint.
from portal.api import failures, views  # noqa: E402, F401
