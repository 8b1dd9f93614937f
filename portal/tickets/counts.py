"""How many tickets there are per status and per department, for the API's lists and counts."""

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Ticket, TicketStatus
from portal.tickets import statuses


class TicketCounts:
    """Counts per (department, status), read in one statement."""

    def __init__(self, session: Session):
        rows = session.execute(
            select(Ticket.department_id, Ticket.status, func.count()).group_by(
                Ticket.department_id, Ticket.status
            )
        ).all()
        self._counts: Counter[tuple[int, str]] = Counter(
            {(department_id, status): count for department_id, status, count in rows}
        )

    def per_status(self, department_id: int | None = None) -> dict[TicketStatus, int]:
        """Every status with its count, in one department or all of them."""
        return {
            status: sum(
                count
                for (department, title), count in self._counts.items()
                if title == status.value and department_id in (None, department)
            )
            for status in TicketStatus
        }

    def in_statuses(self, shown: frozenset[TicketStatus], department_id: int | None = None) -> int:
        counts = self.per_status(department_id)
        return sum(counts[status] for status in shown)

    def active(self, department_id: int | None = None) -> int:
        return self.in_statuses(statuses.ACTIVE, department_id)

    def awaiting_reply(self, department_id: int | None = None) -> int:
        return self.in_statuses(statuses.AWAITING_REPLY, department_id)


def flagged_active(session: Session, staff_id: int) -> int:
    """Active tickets flagged to this staff member (WHMCS's "My Flagged Tickets")."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.flagged_staff_id == staff_id,
                Ticket.status.in_(sorted(s.value for s in statuses.ACTIVE)),
            )
        )
        or 0
    )
