"""Signing client users in and out, and choosing the account they act for."""

from flask import flash, redirect, render_template, request, url_for

from portal.client import client
from portal.client.acting import (
    acting_account,
    acting_accounts,
    choose_account,
    needs_account_choice,
)
from portal.identity import (
    LoginRefused,
    client_login_required,
    log_in,
    log_out,
    safe_next,
    signed_in_user,
    user_by_email,
)
from portal.models import User

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
    if needs_account_choice(user):
        return redirect(url_for(".choose_account_page", next=next_path), 303)
    return redirect(next_path or url_for(".home"), 303)


@client.post("/logout")
def logout():
    log_out()
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
