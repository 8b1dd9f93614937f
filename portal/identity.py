"""Who is signed in: client users and staff members share one Flask-Login session slot."""

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, redirect, request, session, url_for
from flask_login import current_user

from portal.extensions import db, login_manager
from portal.models import StaffMember, User


def register_identity(app: Flask) -> None:
    login_manager.login_view = "client.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_identity)


def load_identity(identity: str) -> User | StaffMember | None:
    kind, _, key = identity.partition(":")
    if not key.isdigit():
        return None
    if kind == "user":
        return db.session.get(User, int(key))
    if kind == "staff":
        staff = db.session.get(StaffMember, int(key))
        # A deactivated staff member is signed out on their next request.
        return staff if staff is not None and staff.active else None
    return None


def signed_in_user() -> User | None:
    identity = _identity()
    return identity if isinstance(identity, User) else None


def signed_in_staff() -> StaffMember | None:
    identity = _identity()
    return identity if isinstance(identity, StaffMember) else None


def _identity() -> object | None:
    # Signing in always puts _user_id in the session (no remember-me cookie is ever issued), so
    # without it nobody is signed in: skip Flask-Login, whose "strong" session protection hashes
    # the client's address and user agent on every request it loads a user for.
    if "_user_id" not in session:
        return None
    return current_user._get_current_object()


def client_login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        if signed_in_user() is None:
            return redirect(url_for("client.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def staff_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        if signed_in_staff() is None:
            if request.method != "GET":
                abort(403)
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped
