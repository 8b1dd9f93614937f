"""WHMCS's six ticket statuses: which count as active, which await a reply, what sets each."""

from portal.models import TicketStatus

# Every status but Closed is active ("Include in Active Tickets").
ACTIVE = frozenset(status for status in TicketStatus if status is not TicketStatus.CLOSED)
# The staff's to-do list ("Include in Awaiting Reply"): nobody on the staff has answered yet.
AWAITING_REPLY = frozenset({TicketStatus.OPEN, TicketStatus.CUSTOMER_REPLY})
AFTER_CLIENT_REPLY = TicketStatus.CUSTOMER_REPLY
AFTER_STAFF_REPLY = TicketStatus.ANSWERED

# GetSupportStatuses' colours for the six defaults.
COLOURS = {
    TicketStatus.OPEN: "#779500",
    TicketStatus.ANSWERED: "#000000",
    TicketStatus.CUSTOMER_REPLY: "#ff6600",
    TicketStatus.ON_HOLD: "#224488",
    TicketStatus.IN_PROGRESS: "#cc0000",
    TicketStatus.CLOSED: "#888888",
}

# GetTickets' pseudo-statuses, which the lists offer as filters too.
ALL_ACTIVE = "All Active Tickets"
AWAITING = "Awaiting Reply"
FILTERS = {ALL_ACTIVE: ACTIVE, AWAITING: AWAITING_REPLY} | {
    status.value: frozenset({status}) for status in TicketStatus
}
# In the order the lists offer them.
FILTER_NAMES = list(FILTERS)


def parse(value: object) -> TicketStatus | None:
    """A configured status named exactly (WHMCS compares titles), or None."""
    try:
        return TicketStatus(str(value).strip())
    except ValueError:
        return None


def after_reply(*, by_staff: bool, chosen: TicketStatus | None = None) -> TicketStatus:
    """The status a reply leaves: the one chosen, or Answered for staff and Customer-Reply for
    a client or guest (which reopens a closed ticket)."""
    if chosen is not None:
        return chosen
    return AFTER_STAFF_REPLY if by_staff else AFTER_CLIENT_REPLY


def filtered(name: str | None) -> frozenset[TicketStatus] | None:
    """The statuses a list filter shows; None for no filter (or one nobody offers)."""
    return FILTERS.get(name or "")
