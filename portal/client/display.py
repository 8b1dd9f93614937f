"""What every client page's layout shows: who is signed in, and for which account."""

from portal.client import client
from portal.client.acting import acting_account, acting_accounts
from portal.identity import signed_in_user


@client.context_processor
def signed_in_context() -> dict:
    user = signed_in_user()
    return {
        "client_user": user,
        "acting_account": acting_account(user) if user else None,
        "has_several_accounts": user is not None and len(acting_accounts(user)) > 1,
    }
