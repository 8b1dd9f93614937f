"""GetSupportDepartments, GetSupportStatuses and GetTicketCounts."""

import pytest
from sqlalchemy import update

from portal.extensions import db
from portal.models import Ticket


@pytest.fixture
def two_departments(make, open_ticket, api):
    """Sales with an Open and a Closed ticket, Support (hidden) with Customer-Reply and Answered."""
    sales = make.department(name="Sales", sort_order=1)
    support = make.department(name="Support", sort_order=2, hidden=True)
    for department, status in (
        (sales, "Open"),
        (sales, "Closed"),
        (support, "Customer-Reply"),
        (support, "Answered"),
    ):
        ticket = open_ticket(deptid=department.id)
        api({"action": "UpdateTicket", "ticketid": ticket.id, "status": status})
    return sales, support


def test_departments_every_one_with_its_counts(api, department, two_departments):
    sales, support = two_departments

    answer = api({"action": "GetSupportDepartments"})

    assert answer == {
        "result": "success",
        "totalresults": 3,
        "departments": {
            "department": [
                {
                    "id": str(department.id),
                    "name": department.name,
                    "awaitingreply": "0",
                    "opentickets": "0",
                },
                {"id": str(sales.id), "name": "Sales", "awaitingreply": "1", "opentickets": "1"},
                {
                    "id": str(support.id),
                    "name": "Support",
                    "awaitingreply": "1",
                    "opentickets": "2",
                },
            ]
        },
    }


@pytest.mark.parametrize("value", ["true", "1", "0"])
def test_departments_accept_ignore_dept_assignments(api, two_departments, value):
    answer = api({"action": "GetSupportDepartments", "ignore_dept_assignments": value})

    assert answer["totalresults"] == 3


def test_statuses_with_their_colours_and_counts(api, two_departments):
    answer = api({"action": "GetSupportStatuses"})

    assert answer == {
        "result": "success",
        "totalresults": 6,
        "statuses": {
            "status": [
                {"title": "Open", "count": 1, "color": "#779500"},
                {"title": "Answered", "count": 1, "color": "#000000"},
                {"title": "Customer-Reply", "count": 1, "color": "#ff6600"},
                {"title": "On Hold", "count": 0, "color": "#224488"},
                {"title": "In Progress", "count": 0, "color": "#cc0000"},
                {"title": "Closed", "count": 1, "color": "#888888"},
            ]
        },
    }


@pytest.mark.parametrize(
    ("deptid", "counts"),
    [
        ("{sales}", [1, 0, 0, 0, 0, 1]),
        ("{support}", [0, 1, 1, 0, 0, 0]),
        ("99999999", [0, 0, 0, 0, 0, 0]),
        ("0", [1, 1, 1, 0, 0, 1]),
        ("", [1, 1, 1, 0, 0, 1]),
    ],
)
def test_statuses_counted_in_one_department(api, two_departments, deptid, counts):
    sales, support = two_departments
    deptid = deptid.format(sales=sales.id, support=support.id)

    answer = api({"action": "GetSupportStatuses", "deptid": deptid})

    assert [status["count"] for status in answer["statuses"]["status"]] == counts


def test_counts(api, department, two_departments, api_staff):
    sales, support = two_departments
    db.session.execute(update(Ticket).values(flagged_staff_id=api_staff.id))
    db.session.commit()

    answer = api({"action": "GetTicketCounts"})

    assert answer == {
        "result": "success",
        "filteredDepartments": [department.id, sales.id, support.id],
        "allActive": 3,
        "awaitingReply": 2,
        "flaggedTickets": 3,
    }


def test_flagged_tickets_are_the_callers_only(api, two_departments, make):
    db.session.execute(update(Ticket).values(flagged_staff_id=make.staff().id))
    db.session.commit()

    assert api({"action": "GetTicketCounts"})["flaggedTickets"] == 0


@pytest.mark.parametrize("ignore", [None, "true", "0"])
def test_counts_by_status(api, two_departments, ignore):
    fields = {"action": "GetTicketCounts", "includeCountsByStatus": "true"}
    if ignore is not None:
        fields["ignoreDepartmentAssignments"] = ignore

    answer = api(fields)

    assert answer["status"] == {
        "open": {"title": "Open", "count": 1},
        "answered": {"title": "Answered", "count": 1},
        "customerreply": {"title": "Customer-Reply", "count": 1},
        "onhold": {"title": "On Hold", "count": 0},
        "inprogress": {"title": "In Progress", "count": 0},
        "closed": {"title": "Closed", "count": 1},
    }


@pytest.mark.parametrize("value", ["0", "false", ""])
def test_no_status_block_unless_asked(api, two_departments, value):
    answer = api({"action": "GetTicketCounts", "includeCountsByStatus": value})

    assert "status" not in answer
