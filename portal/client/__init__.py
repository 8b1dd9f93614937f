"""The client area: guests and client users open and view tickets in the browser."""

from flask import Blueprint

client = Blueprint("client", __name__)

# The modules register their views, filters and context on the blueprint.
from portal.client import (  # noqa: E402, F401
    accounts,
    display,
    submission,
    ticket_pages,
    views,
)
