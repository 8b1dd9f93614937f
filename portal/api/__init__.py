"""The WHMCS-compatible HTTP API at /includes/api.php."""

from flask import Blueprint

api = Blueprint("api", __name__)

from portal.api import views  # noqa: E402, F401 - views register themselves on the blueprint
