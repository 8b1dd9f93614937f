"""My tickets: filtered by status, searched by number or subject, 25 a page, latest first."""

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import TicketStatus, utcnow
from portal.tickets.replies import set_status


@pytest.fixture
def account(make, log_in):
    account = make.client_account()
    log_in(account.owner)
    return account


@pytest.fixture
def tickets_in(make, open_ticket_now):
    def open_with(account, *statuses_and_subjects):
        department = make.department()
        made = []
        for status, subject in statuses_and_subjects:
            ticket = open_ticket_now(department, account=account, subject=subject)
            set_status(ticket, TicketStatus(status), by="Someone")
            made.append(ticket)
        db.session.commit()
        return made

    return open_with


def listed(client, **query) -> str:
    response = client.get("/tickets", query_string=query)
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("All Active Tickets", {"Waiting", "Answered one", "Held"}),
        ("Awaiting Reply", {"Waiting"}),
        ("Closed", {"Done"}),
        ("On Hold", {"Held"}),
        ("all", {"Waiting", "Answered one", "Held", "Done"}),
    ],
)
def test_the_status_filter(client, account, tickets_in, status, shown):
    tickets_in(
        account,
        ("Customer-Reply", "Waiting"),
        ("Answered", "Answered one"),
        ("On Hold", "Held"),
        ("Closed", "Done"),
    )

    page = listed(client, status=status)

    subjects = {"Waiting", "Answered one", "Held", "Done"}
    assert {s for s in subjects if f'<td class="subject">{s}</td>' in page} == shown


def test_search_by_number_with_or_without_hash_and_by_subject(client, account, tickets_in):
    printer, _ = tickets_in(account, ("Open", "Printer on fire"), ("Open", "Invoice question"))

    for query in (printer.tid, f"#{printer.tid}", f"  {printer.tid.lower()} ", "printer"):
        page = listed(client, q=query, status="all")
        assert "Printer on fire" in page and "Invoice question" not in page, query


def test_latest_activity_first_and_25_a_page(client, account, tickets_in):
    many = tickets_in(account, *[("Open", f"Ticket number {n:02d}") for n in range(27)])
    for age, ticket in enumerate(many):
        ticket.updated_at = utcnow() - timedelta(minutes=age)
    db.session.commit()

    first = listed(client)
    second = listed(client, page=2)

    assert "27 tickets, page 1 of 2" in first
    assert first.index("Ticket number 00") < first.index("Ticket number 01")
    assert "Ticket number 24" in first and "Ticket number 25" not in first
    assert "Ticket number 25" in second and "Ticket number 26" in second
    assert "Last update" in first


def test_another_accounts_tickets_never_appear(client, account, tickets_in, make):
    tickets_in(make.client_account(), ("Open", "Someone else's"))

    assert "Someone else" not in listed(client, status="all", q="else")
