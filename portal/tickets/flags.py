"""A ticket's flag: the staff member it is assigned to (UpdateTicket's `flag` and `removeFlag`)."""

from sqlalchemy.orm import Session

from portal.models import StaffMember, Ticket
from portal.tickets import parameters
from portal.tickets.errors import FieldError, UpdateTicketError

# WHMCS documents no error for an unknown admin id; the portal refuses rather than flag nobody.
FLAG_ADMIN_NOT_FOUND = "Flag Admin ID Not Found"


def set_flag(session: Session, ticket: Ticket, flag: object, *, remove: bool) -> None:
    """Flag the ticket to the staff member with id `flag`, or clear the flag with `remove`.

    As in PHP, a `flag` of 0 (or none) leaves it as it is.
    """
    if remove:
        ticket.flagged_staff_id = None
        return
    if not parameters.php_int(flag):
        return
    staff_key = parameters.row_id(flag)
    staff = session.get(StaffMember, staff_key) if staff_key is not None else None
    if staff is None:
        raise UpdateTicketError([FieldError(("flag",), FLAG_ADMIN_NOT_FOUND)])
    ticket.flagged_staff_id = staff.id
    session.flush()
