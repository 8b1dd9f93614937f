"""The staff ticket list (filters, pagination), a ticket's page, its attachments, client search."""

import re
from datetime import datetime, timedelta

import pytest

from portal.extensions import db
from portal.models import Ticket, TicketStatus
from portal.staff.views import TICKETS_PER_PAGE
from portal.tickets import IncomingFile, OpenTicketRequest, TicketSettings, open_ticket


@pytest.fixture
def opened(app, department):
    """Opens a ticket through the core; keyword arguments are OpenTicket's parameters."""
    settings = TicketSettings.from_config(app.config)

    def open_one(**parameters) -> Ticket:
        parameters.setdefault("deptid", department.id)
        parameters.setdefault("subject", "A subject")
        parameters.setdefault("message", "A message")
        if "clientid" not in parameters:
            parameters.setdefault("name", "Gus Guest")
            parameters.setdefault("email", "gus@example.com")
        staff = parameters.pop("acting_staff", None)
        ticket = open_ticket(
            db.session, OpenTicketRequest(**parameters), settings, acting_staff=staff
        )
        db.session.commit()
        return ticket

    return open_one


def rows(page: str) -> list[str]:
    return re.findall(r'<a href="/staff/tickets/([^"]+)">#', page)


def test_the_list_shows_the_newest_tickets_with_their_details(
    staff_client, staff_member, opened, make, department
):
    account = make.client_account(first_name="Carla", last_name="Clientson")
    older = opened(subject="Older", created=datetime(2024, 1, 1))
    client_ticket = opened(
        clientid=account.id,
        subject="By staff",
        priority="High",
        admin=True,
        acting_staff=staff_member,
    )
    page = staff_client.get("/staff/").get_data(as_text=True)
    assert rows(page) == [client_ticket.tid, older.tid]
    row = page[page.index(client_ticket.tid) : page.index(older.tid)]
    for text in ["By staff", "Carla Clientson", department.name, "High", "Open", staff_member.name]:
        assert text in row, text
    guest_row = page[page.index(older.tid) :]
    assert "Gus Guest" in guest_row and "(guest)" in guest_row and "Guest" in guest_row


def test_the_list_filters_by_department_and_status(staff_client, opened, make):
    other = make.department(name="Sales")
    support = opened(subject="Support one")
    sales = opened(subject="Sales one", deptid=other.id)
    closed = opened(subject="Closed one", deptid=other.id)
    closed.status = TicketStatus.CLOSED
    db.session.commit()
    assert set(rows(staff_client.get("/staff/").get_data(as_text=True))) == {
        support.tid,
        sales.tid,
        closed.tid,
    }
    by_department = staff_client.get("/staff/", query_string={"deptid": other.id})
    assert set(rows(by_department.get_data(as_text=True))) == {sales.tid, closed.tid}
    both = staff_client.get("/staff/", query_string={"deptid": other.id, "status": "Open"})
    assert rows(both.get_data(as_text=True)) == [sales.tid]
    assert f'<option value="{other.id}" selected>Sales</option>' in both.get_data(as_text=True)
    unknown = staff_client.get("/staff/", query_string={"status": "Nonsense"})
    assert len(rows(unknown.get_data(as_text=True))) == 3


def test_the_list_is_paginated_and_pages_keep_the_filters(staff_client, opened, department):
    start = datetime(2024, 1, 1)
    tickets = [opened(created=start + timedelta(minutes=n)) for n in range(TICKETS_PER_PAGE + 2)]
    newest_first = [ticket.tid for ticket in reversed(tickets)]
    first = staff_client.get("/staff/", query_string={"deptid": department.id})
    page = first.get_data(as_text=True)
    assert rows(page) == newest_first[:TICKETS_PER_PAGE]
    assert f"page=2&amp;deptid={department.id}" in page or (
        f"deptid={department.id}&amp;page=2" in page
    )
    second = staff_client.get("/staff/", query_string={"deptid": department.id, "page": 2})
    assert rows(second.get_data(as_text=True)) == newest_first[TICKETS_PER_PAGE:]
    beyond = staff_client.get("/staff/", query_string={"page": 99})
    assert beyond.status_code == 200 and rows(beyond.get_data(as_text=True)) == []


def test_a_ticket_page_shows_what_the_client_sees_and_the_staff_facts(
    staff_client, staff_member, opened, make, department
):
    account = make.client_account()
    service = make.service(account, product_name="VPS")
    note = make.custom_field(department, name="Internal note", admin_only=True)
    ticket = opened(
        clientid=account.id,
        serviceid=service.id,
        admin=True,
        noemail=True,
        acting_staff=staff_member,
        markdown=True,
        message="**Hello**",
        customfields={note.id: "VIP"},
        uploads=[IncomingFile.from_bytes("notes.txt", b"some notes")],
    )
    page = staff_client.get(f"/staff/tickets/{ticket.tid}").get_data(as_text=True)
    assert f"Ticket #{ticket.tid}" in page
    assert "<strong>Hello</strong>" in page
    assert "VPS" in page and department.name in page
    assert f"{staff_member.name} (staff)" in page
    assert "Suppressed: no email was sent" in page
    assert "Internal note" in page and "VIP" in page
    link = f"http://portal.test/viewticket?tid={ticket.tid}&amp;c={ticket.access_code}"
    assert f'value="{link}"' in page
    download = f"/staff/tickets/{ticket.tid}/attachments/{ticket.attachments[0].id}"
    assert f'href="{download}"' in page


def test_a_client_opened_ticket_says_so(staff_client, opened):
    ticket = opened()
    page = staff_client.get(f"/staff/tickets/{ticket.tid}").get_data(as_text=True)
    assert "A guest" in page
    assert "<dd>Sent</dd>" in page


def test_staff_download_attachments_as_attachments(staff_client, opened):
    ticket = opened(uploads=[IncomingFile.from_bytes("page.txt", b"<b>not rendered</b>")])
    response = staff_client.get(
        f"/staff/tickets/{ticket.tid}/attachments/{ticket.attachments[0].id}"
    )
    assert response.status_code == 200
    assert response.data == b"<b>not rendered</b>"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "page.txt" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_attachment_is_found_only_under_its_own_ticket(staff_client, opened):
    first = opened(uploads=[IncomingFile.from_bytes("a.txt", b"a")])
    second = opened()
    wrong = staff_client.get(f"/staff/tickets/{second.tid}/attachments/{first.attachments[0].id}")
    assert wrong.status_code == 404


def test_an_unknown_ticket_is_not_found(staff_client):
    assert staff_client.get("/staff/tickets/NOPE-000000").status_code == 404
    assert staff_client.get("/staff/tickets/NOPE-000000/created").status_code == 404


def test_client_search_matches_name_company_email_and_users(staff_client, make):
    carla = make.client_account(
        first_name="Carla",
        last_name="Clientson",
        company_name="Acme Widgets",
        email="billing@acme.example",
    )
    make.client_account(first_name="Bob", last_name="Other", company_name="Globex")
    user = make.user(first_name="Ursula", email="ursula@helpers.example")
    make.member(carla, user)

    def found(query):
        response = staff_client.get("/staff/clients/search", query_string={"q": query})
        assert response.is_json
        return [client["id"] for client in response.get_json()["clients"]]

    for query in ["carla", "Carla Client", "acme", "billing@", "ursula@helpers", "ACME WID"]:
        assert found(query) == [carla.id], query
    assert found("") == []
    assert found("%") == []
    assert found("_") == []
    label = staff_client.get("/staff/clients/search?q=acme").get_json()["clients"][0]["label"]
    assert label == f"Carla Clientson (Acme Widgets) <billing@acme.example> (#{carla.id})"


def test_a_clients_choices_list_users_contacts_services_and_domains(staff_client, make):
    account = make.client_account()
    contact = make.contact(account)
    service = make.service(account)
    domain = make.domain(account)
    choices = staff_client.get(f"/staff/clients/{account.id}/choices").get_json()
    owner = account.owner
    assert choices["default_requestor"] == f"user:{owner.id}"
    assert [c["value"] for c in choices["requestors"]] == [
        f"user:{owner.id}",
        f"contact:{contact.id}",
    ]
    assert [c["value"] for c in choices["related"]] == [f"S{service.id}", f"D{domain.id}"]
    assert staff_client.get("/staff/clients/999999/choices").status_code == 404
