"""GET /healthz for load balancers: 200 when the database answers, 503 when it does not."""

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    # The session is removed when the request ends, so a failed connection is not reused.
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        response = jsonify(status="unavailable")
        response.status_code = 503
    else:
        response = jsonify(status="ok")
    # A cached "ok" from a proxy would hide an outage.
    response.headers["Cache-Control"] = "no-store"
    return response
