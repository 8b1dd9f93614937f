"""The staff area: support staff open tickets on a client's behalf."""

from flask import Blueprint

staff = Blueprint("staff", __name__)

from portal.staff import (  # noqa: E402, F401 - views register themselves on the blueprint
    failed_mail,
    ticket_pages,
    views,
)
