"""The ceiling for this stack: Flask + Flask-SQLAlchemy doing only what a ticket must cost.

It inserts one ticket-like row and commits, or reads one row by tid, on the same SQLite
settings as the portal, so that portal / ceiling measures what the portal adds and nothing
else. Served by gunicorn exactly like the portal (see bench/run.py):

    CEILING_DATABASE_URI=sqlite:////tmp/x.sqlite3 gunicorn 'bench.ceiling_app:create_app()'
"""

import os
import secrets
import string
from datetime import UTC, datetime

from flask import Flask, abort, jsonify, redirect, request
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import generate_csrf, validate_csrf
from markupsafe import escape
from sqlalchemy import String, Text, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from wtforms import ValidationError


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class CeilingTicket(db.Model):
    __tablename__ = "ceiling_ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    tid: Mapped[str] = mapped_column(String(32), unique=True)
    access_code: Mapped[str] = mapped_column(String(8))
    department_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


@event.listens_for(Engine, "connect")
def same_pragmas_as_the_portal(dbapi_connection, connection_record) -> None:
    # Kept equal to portal/extensions.py: the ratio must not measure a durability difference.
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["CEILING_DATABASE_URI"]
    # Workers of one server must share it for a token one issued to pass another's check.
    app.secret_key = os.environ.get("CEILING_SECRET_KEY") or secrets.token_hex(32)
    db.init_app(app)

    def insert_ticket() -> CeilingTicket:
        ticket = CeilingTicket(
            tid="".join(secrets.choice(string.ascii_uppercase) for _ in range(3))
            + "-"
            + "".join(secrets.choice(string.digits) for _ in range(6)),
            access_code=secrets.token_urlsafe(6)[:8],
            department_id=int(request.form.get("deptid", 1)),
            name=request.form.get("name", ""),
            email=request.form.get("email", ""),
            subject=request.form["subject"],
            message=request.form["message"],
            created_at=datetime.now(UTC).replace(tzinfo=None),
        )
        db.session.add(ticket)
        db.session.commit()
        return ticket

    @app.post("/ticket")
    def open_ticket():
        ticket = insert_ticket()
        return jsonify(result="success", id=ticket.id, tid=ticket.tid, c=ticket.access_code)

    @app.get("/ticket")
    def view_ticket():
        ticket = db.session.scalar(
            select(CeilingTicket).where(CeilingTicket.tid == request.args.get("tid", ""))
        )
        if ticket is None or ticket.access_code != request.args.get("c"):
            abort(404)
        return (
            f"<!doctype html><title>{escape(ticket.subject)}</title>"
            f"<h1>#{escape(ticket.tid)} {escape(ticket.subject)}</h1>"
            f"<p>{escape(ticket.name)}</p><pre>{escape(ticket.message)}</pre>"
        )

    # The browser's way, with nothing but the steps themselves: a form, a POST, a redirect.
    @app.get("/submit")
    def submit_form():
        return form_page("/submit", '<input type="hidden" name="token" value="ceiling">')

    @app.post("/submit")
    def submit_ticket():
        ticket = insert_ticket()
        return redirect(f"/ticket?tid={ticket.tid}&c={ticket.access_code}", code=303)

    # The same with the one thing the project's standards ask of every form: a CSRF token, as
    # Flask-WTF issues it into Flask's own session cookie and checks it. A form that must have
    # one cannot beat this, so the guest form's target is reported against it.
    @app.get("/submit-csrf")
    def submit_form_with_csrf():
        return form_page(
            "/submit-csrf", f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">'
        )

    @app.post("/submit-csrf")
    def submit_ticket_with_csrf():
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            abort(400)
        return submit_ticket()

    return app


def form_page(action: str, hidden_input: str) -> str:
    """The ceiling's form: its hidden input, then the fields the benchmark fills in."""
    return (
        f'<!doctype html><form method="post" action="{action}" enctype="multipart/form-data">'
        f"{hidden_input}"
        '<input name="name"><input name="email"><input name="subject">'
        '<input type="file" name="attachments" multiple>'
        "<textarea name=message></textarea><button>Submit</button></form>"
    )


def create_schema() -> None:
    """Run once before the workers start, so two workers never race to create the table."""
    with create_app().app_context():
        db.create_all()
