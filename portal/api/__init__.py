"""The WHMCS-compatible HTTP API at /includes/api.php."""

from flask import Blueprint

api = Blueprint("api", __name__)

# The modules register their views and error handlers on the blueprint.
from portal.api import failures, views  # noqa: E402, F401
