"""Who is signed in: client users and staff members share one Flask-Login session slot."""

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, redirect, request, url_for
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
    return current_user if isinstance(current_user._get_current_object(), User) else None


def signed_in_staff() -> StaffMember | None:
    identity = current_user._get_current_object()
    return identity if isinstance(identity, StaffMember) else None


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
