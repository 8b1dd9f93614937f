"""Template filters, tests and context the client pages and the shared compose macros use."""

from portal.client import client
from portal.client.acting import acting_account, acting_accounts
from portal.identity import signed_in_user
from portal.rendering import is_safe_link
from portal.ticket_facts import local_time
from portal.tickets.attachments import format_size


@client.app_template_filter("filesize")
def filesize(size: int) -> str:
    return format_size(int(size))


client.add_app_template_filter(local_time, "local_time")


@client.app_template_test("safe_link")
def safe_link(url: str) -> bool:
    return is_safe_link(url)


@client.context_processor
def signed_in_context() -> dict:
    user = signed_in_user()
    return {
        "client_user": user,
        "acting_account": acting_account(user) if user else None,
        "has_several_accounts": bool(user) and len(acting_accounts(user)) > 1,
    }
