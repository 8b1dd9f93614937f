"""The client area: guests and client users open and view tickets in the browser."""

from flask import Blueprint

client = Blueprint("client", __name__)

from portal.client import views  # noqa: E402, F401 - views register themselves on the blueprint
