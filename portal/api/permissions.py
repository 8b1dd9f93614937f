"""Which API actions a credential may call: WHMCS's API roles, as a list per credential."""

from portal.api.parameters import action_name

# Every action the API has, in the order the documentation lists them; a credential made
# without --actions may call all of them.
TICKET_ACTIONS = (
    "openticket",
    "getsupportdepartments",
    "getsupportstatuses",
    "getticket",
    "gettickets",
    "getticketcounts",
    "addticketreply",
    "addticketnote",
    "updateticket",
    "getticketnotes",
    "getticketattachment",
    "deleteticket",
)
NOT_ALLOWED = 'Invalid Permissions: API action "{action}" is not allowed'
# WHMCS answers a permission refusal with 403; clients such as whmcspy rely on it.
NOT_ALLOWED_STATUS = 403


class UnknownActions(ValueError):
    """Names that are no API action; `names` lists them."""

    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


def parse_actions(text: str) -> list[str]:
    """Comma- or space-separated action names (any case, `all` for every one), checked."""
    names = [action_name(part) for part in text.replace(",", " ").split()]
    names = [name for name in names if name]
    if "all" in names:
        return list(TICKET_ACTIONS)
    unknown = [name for name in names if name not in TICKET_ACTIONS]
    if unknown:
        raise UnknownActions(unknown)
    return [action for action in TICKET_ACTIONS if action in names]


def allowed_actions(stored: str | None) -> frozenset[str]:
    """The actions a credential's stored list allows; None (or nothing stored) allows all."""
    if stored is None:
        return frozenset(TICKET_ACTIONS)
    return frozenset(name.strip() for name in stored.split(",") if name.strip())
