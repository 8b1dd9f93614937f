"""Signing client users in and out, and choosing the account they act for."""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.client import client
from portal.client.acting import acting_account, acting_accounts, choose_account
from portal.extensions import RateLimit, db, longest_wait, wait_in_words
from portal.identity import client_login_required, signed_in_user
from portal.models import User
from portal.tickets.operations import MAX_EMAIL

LOGIN_FAILED = "The email address or password is incorrect."
TOO_MANY_FAILURES = "Too many failed log-in attempts. Please wait {wait} and try again."
LOGIN_FAILURES_PER_IP = RateLimit("RATELIMIT_LOGIN_FAILURES_PER_IP")
LOGIN_FAILURES_PER_ACCOUNT = RateLimit("RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT")
# Checked when no user has the address, so a wrong address takes as long as a wrong password.
_UNUSED_HASH = generate_password_hash("no user has this password")


def safe_next(target: str | None) -> str | None:
    """A path on this site to return to; anything naming another host or scheme is dropped."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\\\r\n\t"):
        return None
    return target


@client.route("/login", methods=["GET", "POST"])
def login():
    next_path = safe_next(request.values.get("next"))
    email = ""
    error = None
    status = 200
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        # Refused before the password is checked, so that guessing on gains nothing.
        wait = longest_wait(
            (LOGIN_FAILURES_PER_IP, request.remote_addr or ""),
            (LOGIN_FAILURES_PER_ACCOUNT, email.lower()),
        )
        if wait is not None:
            error = TOO_MANY_FAILURES.format(wait=wait_in_words(wait))
            return render_template(
                "client/login.html", email=email, error=error, next_path=next_path
            ), 429
        user = None
        # No stored address is longer or holds a NUL, which PostgreSQL refuses even to compare.
        if len(email) <= MAX_EMAIL and "\x00" not in email:
            user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if user is None:
            check_password_hash(_UNUSED_HASH, request.form.get("password", ""))
        elif user.check_password(request.form.get("password", "")):
            # A new session at login: nothing set before it (fixation, drafts) carries over.
            session.clear()
            login_user(user)
            if acting_account(user) is None and len(acting_accounts(user)) > 1:
                return redirect(url_for(".choose_account_page", next=next_path), 303)
            return redirect(next_path or url_for(".home"), 303)
        LOGIN_FAILURES_PER_IP.count(request.remote_addr or "")
        LOGIN_FAILURES_PER_ACCOUNT.count(email.lower())
        error, status = LOGIN_FAILED, 401
    return render_template(
        "client/login.html", email=email, error=error, next_path=next_path
    ), status


@client.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for(".home"), 303)


@client.route("/account", methods=["GET", "POST"])
@client_login_required
def choose_account_page():
    user = signed_in_user()
    next_path = safe_next(request.values.get("next"))
    if request.method == "POST":
        account = choose_account(user, request.form.get("account_id", type=int))
        if account is not None:
            flash(f"You are now acting for {account.display_name}.", "info")
            return redirect(next_path or url_for(".home"), 303)
    return render_template(
        "client/choose_account.html",
        accounts=acting_accounts(user),
        current=acting_account(user),
        next_path=next_path,
    )
