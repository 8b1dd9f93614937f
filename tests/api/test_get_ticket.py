"""GetTicket: the ticket by id or number, its opening message as reply 0, replies and notes."""

from datetime import datetime

import pytest

from portal.extensions import db
from portal.models import Ticket
from portal.tickets.attachments import stored_path
from tests.api.api_calls import base64_files

DATE = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"


def get_ticket(api, **fields) -> dict:
    return api({"action": "GetTicket", **fields})


def test_the_ticket_with_its_fields_as_whmcs_types_them(api, make, open_ticket):
    account = make.client_account()
    service = make.service(account)
    ticket = open_ticket(
        clientid=account.id,
        serviceid=service.id,
        priority="High",
        created="2024-05-01 09:30:00",
        attachments=base64_files(("a.txt", b"a"), ("b.txt", b"b")),
    )

    answer = get_ticket(api, ticketid=str(ticket.id))

    owner = account.owner
    assert {k: v for k, v in answer.items() if k not in ("replies", "notes")} == {
        "result": "success",
        "ticketid": str(ticket.id),
        "tid": ticket.tid,
        "c": ticket.access_code,
        "deptid": str(ticket.department_id),
        "deptname": ticket.department.name,
        "userid": str(account.id),
        "contactid": "0",
        "name": owner.name,
        "email": owner.email,
        "requestor_name": owner.name,
        "requestor_email": owner.email,
        "requestor_type": "Owner",
        "cc": "",
        "date": "2024-05-01 09:30:00",
        "subject": "Printer on fire",
        "status": "Open",
        "priority": "High",
        "admin": "",
        "lastreply": "2024-05-01 09:30:00",
        "flag": "0",
        "service": f"S{service.id}",
    }
    [opening] = answer["replies"]["reply"]
    first, second = ticket.attachments
    assert opening == {
        "replyid": "0",
        "userid": str(account.id),
        "contactid": "0",
        "name": owner.name,
        "email": owner.email,
        "requestor_name": owner.name,
        "requestor_email": owner.email,
        "requestor_type": "Owner",
        "date": "2024-05-01 09:30:00",
        "message": "It is on fire.",
        "attachment": f"{first.id}_a.txt|{second.id}_b.txt",
        "attachments": [{"filename": "a.txt", "index": 0}, {"filename": "b.txt", "index": 1}],
        "attachments_removed": False,
        "admin": "",
    }
    assert answer["notes"] == {"note": []}


@pytest.mark.parametrize("spelling", ["{tid}", "#{tid}"])
def test_by_ticketnum(api, ticket, spelling):
    answer = get_ticket(api, ticketnum=spelling.format(tid=ticket.tid))

    assert answer["ticketid"] == str(ticket.id)


@pytest.mark.parametrize(
    "fields",
    [{}, {"ticketid": "0"}, {"ticketid": "99999999"}, {"ticketnum": "NOPE-1"}, {"ticketid": "x"}],
)
def test_an_unknown_ticket_is_not_found(api, ticket, fields):
    assert get_ticket(api, **fields) == {"result": "error", "message": "Ticket ID Not Found"}


@pytest.fixture
def conversation(api, make, open_ticket):
    """A client's ticket with a staff reply, a client reply, a contact's reply and a note."""
    staff = make.staff(username="demo", first_name="Demo", last_name="Admin")
    account = make.client_account()
    member = make.user()
    make.member(account, member)
    contact = make.contact(account)
    ticket = open_ticket(clientid=account.id, userid=member.id, created="2024-05-01 09:00:00")
    for fields in (
        {"adminusername": "demo", "created": "2024-05-01 10:00:00"},
        {"clientid": account.id, "created": "2024-05-01 11:00:00"},
        {"clientid": account.id, "contactid": contact.id, "created": "2024-05-01 12:00:00"},
        {"name": "Gus", "email": "gus@example.com", "created": "2024-05-01 13:00:00"},
    ):
        api({"action": "AddTicketReply", "ticketid": ticket.id, "message": "m", **fields})
    api(
        {
            "action": "AddTicketNote",
            "ticketid": ticket.id,
            "message": "private",
            "attachments": base64_files(("n.txt", b"n")),
        }
    )
    return ticket, staff, account, member, contact


def test_replies_oldest_first_with_who_wrote_them(api, conversation):
    ticket, staff, account, member, contact = conversation

    replies = get_ticket(api, ticketid=ticket.id)["replies"]["reply"]

    assert replies[0]["replyid"] == "0"
    assert [r["date"][11:13] for r in replies] == ["09", "10", "11", "12", "13"]
    assert [r["requestor_type"] for r in replies] == [
        "Authorized User",
        "Operator",
        "Owner",
        "Sub-Account",
        "Guest",
    ]
    assert [r["requestor_name"] for r in replies] == [
        member.name,
        "Demo Admin",
        account.owner.name,
        contact.name,
        "Gus",
    ]
    staff_reply = replies[1]
    assert (staff_reply["admin"], staff_reply["name"], staff_reply["email"]) == (
        "Demo Admin",
        "",
        "",
    )
    assert staff_reply["requestor_email"] == staff.email
    assert [r["userid"] for r in replies[1:]] == ["0", str(account.id), str(account.id), "0"]
    assert replies[3]["contactid"] == str(contact.id)
    assert (replies[4]["name"], replies[4]["email"]) == ("Gus", "gus@example.com")
    assert all(r["rating"] == "0" for r in replies[1:])
    assert "rating" not in replies[0]


@pytest.mark.parametrize(
    ("sort", "newest_first"),
    [("ASC", False), ("asc", False), ("DESC", True), ("desc", True), ("", False)],
)
def test_repliessort(api, conversation, sort, newest_first):
    ticket = conversation[0]

    replies = get_ticket(api, ticketid=ticket.id, repliessort=sort)["replies"]["reply"]

    hours = ["09", "10", "11", "12", "13"]
    assert [r["date"][11:13] for r in replies] == (hours[::-1] if newest_first else hours)


def test_notes_with_their_files(api, conversation, api_staff):
    ticket = conversation[0]

    [note] = get_ticket(api, ticketid=ticket.id)["notes"]["note"]

    [attachment] = db.session.get(Ticket, ticket.id).notes[0].attachments
    assert note["message"] == "private"
    assert note["admin"] == api_staff.name
    assert note["attachments"] == [{"filename": "n.txt", "index": 0}]
    assert note["attachment"] == f"{attachment.id}_n.txt"
    assert note["attachments_removed"] is False
    assert set(note) == {
        "noteid",
        "date",
        "message",
        "attachment",
        "attachments",
        "attachments_removed",
        "admin",
    }


def test_attachments_removed_once_a_file_is_gone(api, open_ticket, attachments_dir):
    ticket = open_ticket(attachments=base64_files(("a.txt", b"a")))
    stored_path(attachments_dir, ticket.attachments[0].stored_name).unlink()

    [opening] = get_ticket(api, ticketid=ticket.id)["replies"]["reply"]

    assert opening["attachments_removed"] is True
    assert opening["attachments"] == [{"filename": "a.txt", "index": 0}]


def test_admin_is_the_staff_member_who_opened_it(api, department, api_staff):
    api_staff.first_name, api_staff.last_name = "Opal", "Opener"
    db.session.commit()
    opened = api(
        {
            "action": "OpenTicket",
            "deptid": department.id,
            "subject": "s",
            "message": "m",
            "name": "G",
            "email": "g@example.com",
            "admin": "1",
        }
    )

    answer = get_ticket(api, ticketid=opened["id"])

    assert answer["admin"] == "Opal Opener"
    assert answer["replies"]["reply"][0]["admin"] == "Opal Opener"


def test_a_domain_is_named_d_and_its_id(api, make, open_ticket):
    account = make.client_account()
    domain = make.domain(account)
    ticket = open_ticket(clientid=account.id, domainid=domain.id)

    assert get_ticket(api, ticketid=ticket.id)["service"] == f"D{domain.id}"


def test_a_contacts_ticket_is_a_sub_accounts(api, make, open_ticket):
    account = make.client_account()
    contact = make.contact(account)
    ticket = open_ticket(clientid=account.id, contactid=contact.id)

    answer = get_ticket(api, ticketid=ticket.id)

    assert (answer["requestor_type"], answer["contactid"], answer["cc"]) == (
        "Sub-Account",
        str(contact.id),
        contact.email,
    )


class TestInAnotherTimeZone:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "TIMEZONE": "Europe/Berlin"}

    def test_dates_are_in_the_portals_time_zone_as_created_is_read(self, api, open_ticket):
        ticket = open_ticket(created="2024-05-01 09:30:00")

        assert ticket.created_at == datetime(2024, 5, 1, 7, 30)
        assert get_ticket(api, ticketid=ticket.id)["date"] == "2024-05-01 09:30:00"


def test_a_client_users_reply_to_a_guests_ticket_is_a_registered_users(api, make, ticket):
    account = make.client_account()

    api({"action": "AddTicketReply", "ticketid": ticket.id, "message": "m", "clientid": account.id})

    reply = get_ticket(api, ticketid=ticket.id)["replies"]["reply"][1]
    assert (reply["requestor_type"], reply["requestor_name"]) == (
        "Registered User",
        account.owner.name,
    )
