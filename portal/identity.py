"""Who is signed in: client users and staff members share one Flask-Login session slot, one way
to sign in, and one rule for where to go afterwards."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from portal.extensions import RateLimit, db, login_manager, longest_wait, wait_in_words
from portal.models import StaffMember, User
from portal.tickets.opening import MAX_EMAIL

TOO_MANY_FAILURES = "Too many failed sign-in attempts. Please wait {wait} and try again."
# Longer values name no row (StaffMember.username is String(64)).
MAX_USERNAME = 64
LOGIN_FAILURES_PER_IP = RateLimit("RATELIMIT_LOGIN_FAILURES_PER_IP")
LOGIN_FAILURES_PER_ACCOUNT_AND_IP = RateLimit("RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT_AND_IP")
# Checked when nobody has the name, so a wrong name costs as long as a wrong password: the hash
# of a random password nobody kept, written out rather than computed, because computing one
# (scrypt) takes 32 MB and a tenth of a second in every worker that starts.
# The account's session generation when this session signed in (see load_identity).
SESSION_GENERATION = "_session_generation"
UNUSED_HASH = (
    "scrypt:32768:8:1$VqS7AbAtwigtf7Mw$4c49be2c530cbedc80916cc6e176feea2c296061a117f7a1cdb637"
    "b98f44df19b411a81b942ffd6ecff4fa45b70cae2781aa7da9b9144e9a6bbbb1187ec77098"
)


def register_identity(app: Flask) -> None:
    login_manager.login_view = "client.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_identity)


def load_identity(identity: str) -> User | StaffMember | None:
    kind, _, key = identity.partition(":")
    if not key.isdigit():
        return None
    account: User | StaffMember | None = None
    if kind == "user":
        account = db.session.get(User, int(key))
    elif kind == "staff":
        account = db.session.get(StaffMember, int(key))
    if account is None or not account.is_active:
        # A deactivated staff member is signed out on their next request.
        return None
    # Signing out or a new password since this session signed in ended it (and its copies).
    if session.get(SESSION_GENERATION) != account.session_generation:
        return None
    return account


def signed_in_user() -> User | None:
    identity = _identity()
    return identity if isinstance(identity, User) else None


def signed_in_staff() -> StaffMember | None:
    identity = _identity()
    return identity if isinstance(identity, StaffMember) else None


def _identity() -> object | None:
    # Signing in always puts _user_id in the session (no remember-me cookie is ever issued).
    # Without it nobody is signed in, and Flask-Login is not asked: its "strong" protection
    # would rewrite a guest's session (and so its cookie) on every request.
    if "_user_id" not in session:
        return None
    return current_user._get_current_object()


class LoginRefused(Exception):
    """The sign-in failed; `message` says so as the page shows it."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


def log_in(
    find: Callable[[], User | StaffMember | None], name: str, password: str, *, refused: str
) -> User | StaffMember:
    """Sign in whoever `find` looks up by `name`, if the password is theirs; raises LoginRefused.

    Failures are counted per address, and per name tried from that address; once a limit is
    reached that address is refused before any password is checked, so guessing on gains
    nothing. No count is per name alone: a stranger's wrong guesses never refuse the owner's
    right password from an address that has not been failing.
    """
    address = request.remote_addr or ""
    per_name = f"{name}\n{address}"
    wait = longest_wait(
        (LOGIN_FAILURES_PER_IP, address), (LOGIN_FAILURES_PER_ACCOUNT_AND_IP, per_name)
    )
    if wait is not None:
        raise LoginRefused(TOO_MANY_FAILURES.format(wait=wait_in_words(wait)), 429)
    account = find()
    matched = password_matches(account, password)
    if account is not None and matched and account.is_active:
        # A fresh session: nothing set before sign-in (fixation, drafts, another identity)
        # carries over.
        session.clear()
        login_user(account)
        session[SESSION_GENERATION] = account.session_generation
        return account
    LOGIN_FAILURES_PER_IP.count(address)
    LOGIN_FAILURES_PER_ACCOUNT_AND_IP.count(per_name)
    raise LoginRefused(refused, 401)


def password_matches(account: User | StaffMember | None, password: str) -> bool:
    """Whether the password is the account's, at the cost of one hash check whoever asks.

    A name nobody has, an account without a password and a deactivated staff member cost the
    same check as a wrong password, so the time a refusal takes tells nothing about the account.
    """
    stored = account.password_hash if account is not None else None
    return check_password_hash(stored or UNUSED_HASH, password) and stored is not None


def log_out() -> None:
    """Sign out, ending every session of the account: a copy of the cookie opens nothing after."""
    account = _identity()
    if isinstance(account, User | StaffMember):
        account.end_sessions()
        db.session.commit()
    logout_user()
    session.clear()


def user_by_email(email: str) -> User | None:
    """The client user with this email address, in any case, and no look-alike of it."""
    # No stored address is longer or holds a NUL, which PostgreSQL refuses even to compare.
    if len(email) > MAX_EMAIL or "\x00" in email:
        return None
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    # MariaDB's collation matches look-alikes ("démo" for "demo"): only the address itself counts.
    return user if user is not None and user.email.lower() == email.lower() else None


def staff_by_username(username: str) -> StaffMember | None:
    """The staff member with exactly this username."""
    if len(username) > MAX_USERNAME or "\x00" in username:
        return None
    member = db.session.scalar(select(StaffMember).where(StaffMember.username == username))
    # As for email addresses: "ádmin" is found for "admin" on MariaDB, and is another name.
    return member if member is not None and member.username == username else None


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None: `next` must not lead elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


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
