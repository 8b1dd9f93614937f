"""GetTickets: filters, paging with limitstart and limitnum, and WHMCS's nesting."""

import pytest
from sqlalchemy import update

from portal.extensions import db
from portal.models import Ticket
from tests.api.api_calls import read_xml_tree


def listed(api, **fields) -> dict:
    return api({"action": "GetTickets", **fields})


def ids(answer: dict) -> list[str]:
    return [ticket["id"] for ticket in answer["tickets"]["ticket"]]


def test_no_tickets_is_an_empty_list_not_a_missing_one(api):
    assert listed(api) == {
        "result": "success",
        "totalresults": "0",
        "startnumber": 0,
        "numreturned": 0,
        "tickets": {"ticket": []},
    }


def test_a_ticket_as_listed(api, make, open_ticket):
    account = make.client_account()
    ticket = open_ticket(clientid=account.id, created="2024-05-01 09:30:00")

    [element] = listed(api)["tickets"]["ticket"]

    assert element == {
        "id": str(ticket.id),
        "tid": ticket.tid,
        "deptid": str(ticket.department_id),
        "userid": str(account.id),
        "name": account.owner.name,
        "owner_name": account.name,
        "email": account.owner.email,
        "requestor_name": account.owner.name,
        "requestor_email": account.owner.email,
        "requestor_type": "Owner",
        "cc": "",
        "c": ticket.access_code,
        "date": "2024-05-01 09:30:00",
        "subject": "Printer on fire",
        "status": "Open",
        "priority": "Low",
        "admin": "",
        "attachment": "",
        "attachments": [],
        "attachments_removed": False,
        "lastreply": "2024-05-01 09:30:00",
        "flag": "0",
        "service": "",
    }


@pytest.fixture
def many(open_ticket):
    """27 tickets, the latest reply last."""
    tickets = [open_ticket(created=f"2024-05-01 09:{minute:02d}:00") for minute in range(27)]
    return [str(t.id) for t in tickets]


def test_by_default_the_first_25_latest_reply_first(api, many):
    answer = listed(api)

    assert (answer["totalresults"], answer["startnumber"], answer["numreturned"]) == ("27", 0, 25)
    assert ids(answer) == many[::-1][:25]


@pytest.mark.parametrize(
    ("limitstart", "limitnum", "start", "returned"),
    [
        ("25", None, 25, 2),
        ("10", "5", 10, 5),
        ("0", "100", 0, 27),
        ("30", None, 30, 0),
        ("-5", "0", 0, 25),
        ("abc", "-1", 0, 25),
        ("9" * 30, None, 2**31 - 1, 0),
    ],
)
def test_paging(api, many, limitstart, limitnum, start, returned):
    fields = {"limitstart": limitstart} | ({} if limitnum is None else {"limitnum": limitnum})

    answer = listed(api, **fields)

    assert (answer["startnumber"], answer["numreturned"], answer["totalresults"]) == (
        start,
        returned,
        "27",
    )
    assert ids(answer) == many[::-1][start : start + returned]


def test_paging_on_as_whmcspy_does_reaches_every_ticket_once(api, many):
    seen, start = [], 0
    while True:
        answer = listed(api, limitstart=str(start), limitnum="10")
        if answer["numreturned"] == 0:
            break
        seen += ids(answer)
        start += answer["numreturned"]

    assert sorted(seen) == sorted(many)


def test_filters(api, make, open_ticket):
    other_department = make.department()
    account = make.client_account()
    by_client = open_ticket(clientid=account.id, subject="Invoice 100% wrong")
    elsewhere = open_ticket(deptid=other_department.id, name="Hal", email="Hal@Example.com")
    guest = open_ticket(subject="Cannot log in")

    assert ids(listed(api, deptid=str(other_department.id))) == [str(elsewhere.id)]
    assert ids(listed(api, clientid=str(account.id))) == [str(by_client.id)]
    assert ids(listed(api, email="hal@example.com")) == [str(elsewhere.id)]
    assert ids(listed(api, email=account.owner.email)) == []
    assert ids(listed(api, subject="100%")) == [str(by_client.id)]
    assert ids(listed(api, subject="LOG IN")) == [str(guest.id)]
    assert ids(listed(api, subject="%")) == [str(by_client.id)]
    assert ids(listed(api, deptid="99999999")) == []
    assert ids(listed(api, clientid="9" * 30)) == []
    assert len(ids(listed(api, deptid="0", clientid=""))) == 3


@pytest.fixture
def one_of_each_status(open_ticket, api):
    made = {}
    for status in ("Open", "Answered", "Customer-Reply", "On Hold", "In Progress", "Closed"):
        ticket = open_ticket(subject=status)
        api({"action": "UpdateTicket", "ticketid": ticket.id, "status": status})
        made[status] = str(ticket.id)
    return made


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Open", ["Open"]),
        ("On Hold", ["On Hold"]),
        ("Closed", ["Closed"]),
        ("Awaiting Reply", ["Open", "Customer-Reply"]),
        ("All Active Tickets", ["Open", "Answered", "Customer-Reply", "On Hold", "In Progress"]),
        ("Bogus", []),
        ("open", []),
        ("", ["Open", "Answered", "Customer-Reply", "On Hold", "In Progress", "Closed"]),
    ],
)
def test_status_filter(api, one_of_each_status, status, expected):
    answer = listed(api, status=status, limitnum="100")

    assert sorted(ids(answer)) == sorted(one_of_each_status[title] for title in expected)


def test_my_flagged_tickets_are_the_active_ones_flagged_to_the_caller(
    api, one_of_each_status, api_staff, make
):
    other = make.staff()
    flagged = {
        one_of_each_status["Open"]: api_staff.id,
        one_of_each_status["Closed"]: api_staff.id,
        one_of_each_status["Answered"]: other.id,
    }
    for ticket_id, staff_id in flagged.items():
        db.session.execute(
            update(Ticket).where(Ticket.id == int(ticket_id)).values(flagged_staff_id=staff_id)
        )
    db.session.commit()

    answer = listed(api, status="My Flagged Tickets")

    assert ids(answer) == [one_of_each_status["Open"]]
    assert answer["tickets"]["ticket"][0]["flag"] == str(api_staff.id)


@pytest.mark.parametrize("value", ["1", "true", "0"])
def test_ignore_dept_assignments_is_accepted_and_every_department_listed(
    api, make, open_ticket, value
):
    open_ticket(deptid=make.department().id)
    open_ticket()

    assert listed(api, ignore_dept_assignments=value)["numreturned"] == 2


def test_unknown_parameters_are_ignored_as_in_whmcs(api, many):
    assert listed(api, orderby="id", order="asc")["numreturned"] == 25


def test_the_xml_form_repeats_ticket_inside_tickets(call_api, open_ticket):
    first, second = open_ticket(), open_ticket()

    root = read_xml_tree(call_api({"action": "GetTickets", "responsetype": "xml"}), "gettickets")

    assert [child.tag for child in root] == [
        "action",
        "result",
        "totalresults",
        "startnumber",
        "numreturned",
        "tickets",
    ]
    tickets = root.find("tickets")
    assert [child.tag for child in tickets] == ["ticket", "ticket"]
    assert sorted(t.findtext("id") for t in tickets) == sorted([str(first.id), str(second.id)])
    assert tickets[0].findtext("attachments_removed") == ""


def test_the_xml_form_of_no_tickets_is_an_empty_element(call_api):
    root = read_xml_tree(call_api({"action": "GetTickets", "responsetype": "xml"}), "gettickets")

    assert root.find("tickets") is not None
    assert list(root.find("tickets")) == []


def test_the_text_form_names_nested_values_as_http_build_query(call_api, ticket):
    text = call_api({"action": "GetTickets"}).get_data(as_text=True)

    assert text.startswith("result=success;totalresults=1;startnumber=0;numreturned=1;")
    assert f";tickets[ticket][0][id]={ticket.id};" in text
    assert f";tickets[ticket][0][tid]={ticket.tid};" in text
