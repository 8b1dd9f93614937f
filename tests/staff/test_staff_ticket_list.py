"""The staff ticket list: search, the status filters, the last-reply columns, latest first."""

import re
from datetime import datetime, timedelta

import pytest

from portal.extensions import db
from portal.models import Ticket, TicketStatus
from portal.tickets import OpenTicketRequest, TicketSettings, open_ticket
from portal.tickets.replies import ReplyRequest, add_reply


@pytest.fixture
def opened(app, department):
    settings = TicketSettings.from_config(app.config)

    def open_one(**parameters) -> Ticket:
        parameters.setdefault("deptid", department.id)
        parameters.setdefault("subject", "A subject")
        parameters.setdefault("message", "A message")
        if "clientid" not in parameters:
            parameters.setdefault("name", "Gus Guest")
            parameters.setdefault("email", "gus@example.com")
        ticket = open_ticket(db.session, OpenTicketRequest(**parameters), settings)
        db.session.commit()
        return ticket

    return open_one


def listed(client, **query) -> list[str]:
    response = client.get("/staff/", query_string=query)
    assert response.status_code == 200, query
    return re.findall(r'<a href="/staff/tickets/([^"]+)">#', response.text)


def with_status(ticket: Ticket, status: TicketStatus) -> Ticket:
    ticket.status = status.value
    db.session.commit()
    return ticket


def test_search_finds_by_number_subject_requester_and_client(staff_client, opened, make):
    account = make.client_account(first_name="Zelda", last_name="Zimmer", company_name="Zcorp")
    by_client = opened(clientid=account.id, subject="Invoice question")
    by_guest = opened(subject="Printer on fire", name="Petra Pan", email="petra@pan.example")
    for text in [f"#{by_guest.tid}", by_guest.tid, f" # {by_guest.tid.lower()} "]:
        assert listed(staff_client, q=text) == [by_guest.tid], text
    assert listed(staff_client, q="on fire") == [by_guest.tid]
    assert listed(staff_client, q="petra@pan") == [by_guest.tid]
    assert listed(staff_client, q="Petra") == [by_guest.tid]
    assert listed(staff_client, q="Zimmer") == [by_client.tid]
    assert listed(staff_client, q="zcorp") == [by_client.tid]
    assert listed(staff_client, q="%") == []
    nothing = staff_client.get("/staff/", query_string={"q": "no such thing"})
    assert "No tickets match these filters." in nothing.text
    assert 'value="no such thing"' in nothing.text  # the box keeps the search


def test_the_status_filters(staff_client, opened):
    made = {status: with_status(opened(subject=status.value), status) for status in TicketStatus}
    tids = {status: ticket.tid for status, ticket in made.items()}
    awaiting = {tids[TicketStatus.OPEN], tids[TicketStatus.CUSTOMER_REPLY]}
    assert set(listed(staff_client, status="Awaiting Reply")) == awaiting
    active = set(tids.values()) - {tids[TicketStatus.CLOSED]}
    assert set(listed(staff_client, status="All Active Tickets")) == active
    for status, tid in tids.items():
        assert listed(staff_client, status=status.value) == [tid], status
    assert set(listed(staff_client)) == set(tids.values())  # any status
    page = staff_client.get("/staff/").text
    for label in ["Any status", "Awaiting reply (Open and Customer-Reply)", "All active"]:
        assert label in page


def test_filters_and_search_combine_and_pages_keep_them(staff_client, opened, make):
    other = make.department(name="Sales")
    wanted = opened(subject="Refund please", deptid=other.id)
    opened(subject="Refund please")  # another department
    with_status(opened(subject="Refund please", deptid=other.id), TicketStatus.CLOSED)
    query = {"deptid": other.id, "status": "All Active Tickets", "q": "refund"}
    assert listed(staff_client, **query) == [wanted.tid]

    start = datetime(2024, 1, 1)
    for n in range(26):
        opened(subject=f"Bulk {n}", created=start + timedelta(minutes=n))
    page = staff_client.get("/staff/", query_string={"q": "bulk"}).text
    assert len(re.findall(r'<a href="/staff/tickets/[^"]+">#', page)) == 25
    link = re.search(r'href="(/staff/\?[^"]*page=2[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "q=bulk" in link
    assert len(re.findall(r'<a href="/staff/tickets/[^"]+">#', staff_client.get(link).text)) == 1


def test_last_reply_columns_and_latest_activity_first(app, staff_client, staff_member, opened):
    older = opened(subject="Older", created=datetime(2024, 1, 1))
    # Backdated: MariaDB keeps whole seconds, and the reply below must be later.
    newer = opened(
        subject="Newer", name="Nora Newer", email="nora@example.com", created=datetime(2024, 1, 2)
    )
    assert listed(staff_client) == [newer.tid, older.tid]
    settings = TicketSettings.from_config(app.config)
    add_reply(
        db.session,
        older,
        ReplyRequest(message="Answer", noemail=True),
        settings,
        staff=staff_member,
    )
    db.session.commit()
    page = staff_client.get("/staff/").text
    assert listed(staff_client) == [older.tid, newer.tid]  # the reply is the latest activity
    assert '<th scope="col">Last reply</th>' in page and "Last reply by</th>" in page
    older_row = page[page.index(f"#{older.tid}") : page.index(f"#{newer.tid}")]
    assert f'{staff_member.name} <span class="mark mark-staff">Staff</span>' in older_row
    newer_row = page[page.index(f"#{newer.tid}") :].split("</tr>")[0]
    assert "Nora Newer" in newer_row and "mark-staff" not in newer_row
    assert f'<td class="tid"><a href="/staff/tickets/{older.tid}">' in page


@pytest.mark.parametrize(
    "query",
    [
        {"page": str(10**30)},
        {"page": "-5"},
        {"page": "two"},
        {"page": str(2**31 - 1)},
        {"deptid": str(10**30)},
        {"deptid": "-1"},
        {"deptid": "x"},
        {"status": "Nonsense"},
        {"q": "\x00" + "a" * 5000},
    ],
)
def test_odd_query_values_give_a_page_not_an_error(staff_client, opened, query):
    opened()
    assert staff_client.get("/staff/", query_string=query).status_code == 200
