"""The client account a signed-in user acts for, remembered in the session."""

from flask import g, session

from portal.extensions import db
from portal.models import ClientAccount, User
from portal.tickets.access import accounts_for_user

ACTING_ACCOUNT_KEY = "acting_account_id"


def acting_accounts(user: User) -> list[ClientAccount]:
    """The user's accounts, looked up once a request."""
    if "acting_accounts" not in g:
        g.acting_accounts = accounts_for_user(db.session(), user)
    return g.acting_accounts


def acting_account(user: User) -> ClientAccount | None:
    """The chosen account, or the only one; None while a user of several has not chosen."""
    accounts = acting_accounts(user)
    chosen = session.get(ACTING_ACCOUNT_KEY)
    for account in accounts:
        if account.id == chosen:
            return account
    return accounts[0] if len(accounts) == 1 else None


def needs_account_choice(user: User) -> bool:
    """A user of several accounts who has not chosen one yet is asked to first."""
    return acting_account(user) is None and len(acting_accounts(user)) > 1


def choose_account(user: User, account_id: int | None) -> ClientAccount | None:
    """Act for one of the user's own accounts; any other id is ignored."""
    account = next((a for a in acting_accounts(user) if a.id == account_id), None)
    if account is not None:
        session[ACTING_ACCOUNT_KEY] = account.id
    return account
