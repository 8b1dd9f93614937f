"""Signing client users in and out, and choosing the account they act for."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import logout_user
from sqlalchemy import func, select

from portal.client import client
from portal.client.acting import acting_account, acting_accounts, choose_account
from portal.extensions import db
from portal.identity import LoginRefused, client_login_required, log_in, safe_next, signed_in_user
from portal.models import User
from portal.tickets.opening import MAX_EMAIL

LOGIN_FAILED = "The email address or password is incorrect."


@client.route("/login", methods=["GET", "POST"])
def login():
    next_path = safe_next(request.values.get("next"))
    email = request.form.get("email", "").strip()
    if request.method == "GET":
        return render_template("client/login.html", email="", error=None, next_path=next_path)
    try:
        user = log_in(
            lambda: user_by_email(email),
            email.lower(),
            request.form.get("password", ""),
            refused=LOGIN_FAILED,
        )
    except LoginRefused as refused:
        page = render_template(
            "client/login.html", email=email, error=refused.message, next_path=next_path
        )
        return page, refused.status
    assert isinstance(user, User)
    if acting_account(user) is None and len(acting_accounts(user)) > 1:
        return redirect(url_for(".choose_account_page", next=next_path), 303)
    return redirect(next_path or url_for(".home"), 303)


def user_by_email(email: str) -> User | None:
    # No stored address is longer or holds a NUL, which PostgreSQL refuses even to compare.
    if len(email) > MAX_EMAIL or "\x00" in email:
        return None
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    # MariaDB's collation matches look-alikes ("démo" for "demo"): only the address itself counts.
    return user if user is not None and user.email.lower() == email.lower() else None


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
