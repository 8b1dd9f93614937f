"""AddTicketReply: who writes, the status after the reply, and each documented error."""

import base64
from datetime import datetime
from io import BytesIO

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Attachment,
    Editor,
    OutboxMessage,
    Ticket,
    TicketReply,
    TicketStatus,
)
from tests.api.api_calls import base64_files


def replies(ticket: Ticket) -> list[TicketReply]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(TicketReply).where(TicketReply.ticket_id == ticket.id).order_by(TicketReply.id)
        )
    )


def reply_fields(ticket: Ticket, **fields) -> dict:
    return {"action": "AddTicketReply", "ticketid": str(ticket.id), "message": "Hello", **fields}


def test_a_staff_reply_by_adminusername_answers_the_ticket(api, ticket, make):
    staff = make.staff(username="demo", first_name="Demo", last_name="Admin")

    answer = api(reply_fields(ticket, adminusername="demo", message="We are on it."))

    assert answer == {"result": "success"}
    [reply] = replies(ticket)
    assert (reply.staff_id, reply.name, reply.message) == (staff.id, "Demo Admin", "We are on it.")
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.ANSWERED


def test_only_adminusername_makes_a_valid_reply_as_a_ruby_integration_sends_it(api, ticket, make):
    make.staff(username="ops")

    answer = api(
        {
            "action": "AddTicketReply",
            "ticketid": ticket.id,
            "message": "x",
            "status": "Open",
            "adminusername": "ops",
        }
    )

    assert answer == {"result": "success"}
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.OPEN


def test_an_adminusername_no_staff_member_has_is_no_staff_reply(api, ticket, make):
    make.staff(username="ops", active=False)

    for username in ("nobody", "ops", "OPS"):
        answer = api(reply_fields(ticket, adminusername=username))
        assert answer["message"] == "Name and email address are required if not a client"
    assert replies(ticket) == []


def test_a_client_reply_is_the_account_owners_and_awaits_staff(api, make, open_ticket):
    account = make.client_account()
    ticket = open_ticket(clientid=account.id)

    assert api(reply_fields(ticket, clientid=str(account.id))) == {"result": "success"}

    [reply] = replies(ticket)
    assert (reply.user_id, reply.staff_id) == (account.owner.id, None)
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.CUSTOMER_REPLY


def test_userid_is_the_older_name_of_clientid(api, make, open_ticket):
    account = make.client_account()
    ticket = open_ticket(clientid=account.id)

    assert api(reply_fields(ticket, userid=str(account.id))) == {"result": "success"}
    assert replies(ticket)[0].user_id == account.owner.id


def test_a_contact_of_the_client_may_reply(api, make, open_ticket):
    account = make.client_account()
    contact = make.contact(account)
    ticket = open_ticket(clientid=account.id)

    api(reply_fields(ticket, clientid=account.id, contactid=contact.id))

    [reply] = replies(ticket)
    assert (reply.contact_id, reply.name, reply.email) == (contact.id, contact.name, contact.email)


def test_a_named_guest_may_reply(api, ticket):
    api(reply_fields(ticket, name="Gus Guest", email="gus@example.com"))

    [reply] = replies(ticket)
    assert (reply.name, reply.email, reply.user_id, reply.staff_id) == (
        "Gus Guest",
        "gus@example.com",
        None,
        None,
    )


def test_a_client_reply_reopens_a_closed_ticket(api, make, open_ticket):
    account = make.client_account()
    ticket = open_ticket(clientid=account.id)
    api({"action": "UpdateTicket", "ticketid": ticket.id, "status": "Closed"})

    api(reply_fields(ticket, clientid=account.id))

    assert db.session.get(Ticket, ticket.id).status == TicketStatus.CUSTOMER_REPLY


@pytest.mark.parametrize("status", [s.value for s in TicketStatus])
def test_status_overrides_the_default_after_the_reply(api, ticket, make, status):
    make.staff(username="demo")

    api(reply_fields(ticket, adminusername="demo", status=status))

    assert db.session.get(Ticket, ticket.id).status == status


@pytest.mark.parametrize("field", ["markdown", "useMarkdown"])
def test_markdown_or_its_older_name_makes_a_markdown_reply(api, ticket, field):
    api(reply_fields(ticket, name="G", email="g@example.com", message="**bold**", **{field: "1"}))

    [reply] = replies(ticket)
    assert reply.editor == Editor.MARKDOWN
    assert "<strong>bold</strong>" in reply.message_html


def test_without_markdown_the_reply_is_plain(api, ticket):
    api(reply_fields(ticket, name="G", email="g@example.com", message="**bold**"))

    assert replies(ticket)[0].editor == Editor.PLAIN


def reply_emails(reply: TicketReply) -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.reply_id == reply.id)
    )


def test_a_reply_sends_its_email_unless_noemail(api, make, open_ticket):
    make.staff(username="demo")
    ticket = open_ticket()

    api(reply_fields(ticket, adminusername="demo"))
    api(reply_fields(ticket, adminusername="demo", noemail="true"))

    first, second = replies(ticket)
    assert (reply_emails(first), reply_emails(second)) == (1, 0)


def test_created_backdates_the_reply(api, ticket):
    api(reply_fields(ticket, name="G", email="g@example.com", created="2024-05-01 09:30:00"))

    [reply] = replies(ticket)
    assert reply.created_at == datetime(2024, 5, 1, 9, 30)
    assert db.session.get(Ticket, ticket.id).last_reply_at == datetime(2024, 5, 1, 9, 30)


def test_created_takes_iso_8601_with_an_offset(api, ticket):
    api(reply_fields(ticket, name="G", email="g@example.com", created="2024-05-01T11:30:00+02:00"))

    assert replies(ticket)[0].created_at == datetime(2024, 5, 1, 9, 30)


def test_base64_and_multipart_attachments_are_the_replys(api, ticket, attachments_dir):
    answer = api(
        reply_fields(
            ticket,
            name="G",
            email="g@example.com",
            attachments=base64_files(("log.txt", b"log lines")),
            **{"attachments[]": (BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 20), "shot.png")},
        ),
        content_type="multipart/form-data",
    )

    assert answer == {"result": "success"}
    [reply] = replies(ticket)
    assert sorted(a.original_name for a in reply.attachments) == ["log.txt", "shot.png"]
    assert all(a.ticket_id == ticket.id for a in reply.attachments)


def test_customfields_change_the_tickets_values(api, make, department, open_ticket):
    field = make.custom_field(department, name="Order")
    ticket = open_ticket()
    encoded = base64.b64encode(f'a:1:{{i:{field.id};s:5:"A-123";}}'.encode()).decode()

    api(reply_fields(ticket, name="G", email="g@example.com", customfields=encoded))

    db.session.rollback()
    [value] = db.session.get(Ticket, ticket.id).custom_field_values
    assert (value.field_id, value.value) == (field.id, "A-123")


def test_a_customfields_value_too_long_refuses_the_whole_reply(api, make, department, ticket):
    field = make.custom_field(department, name="Order")
    encoded = base64.b64encode(f'{{"{field.id}": "{"x" * 10_001}"}}'.encode()).decode()

    answer = api(reply_fields(ticket, name="G", email="g@example.com", customfields=encoded))

    assert answer["message"] == "Order is too long (at most 10,000 characters)"
    assert replies(ticket) == []


def future() -> str:
    return f"{datetime.now().year + 1}-01-01 00:00:00"


ERRORS = [
    ({"ticketid": None}, "Ticket ID not found"),
    ({"ticketid": ""}, "Ticket ID not found"),
    ({"ticketid": "0"}, "Ticket ID not found"),
    ({"ticketid": "abc"}, "Ticket ID not found"),
    ({"ticketid": "99999999"}, "Ticket ID not found"),
    ({"ticketid": "9" * 40}, "Ticket ID not found"),
    ({"clientid": "99999999"}, "Client ID Not Found"),
    ({"clientid": "{client}", "contactid": "99999999"}, "Contact ID Not Found"),
    ({}, "Name and email address are required if not a client"),
    ({"name": "G"}, "Name and email address are required if not a client"),
    ({"email": "g@example.com"}, "Name and email address are required if not a client"),
    ({"name": "G", "email": "g@example.com", "message": ""}, "Message is required"),
    ({"name": "G", "email": "g@example.com", "message": None}, "Message is required"),
    ({"name": "G", "email": "not an address"}, "Email Address Invalid"),
    ({"name": "G", "email": "g@example.com", "status": "Bogus"}, "Invalid Ticket Status"),
    ({"name": "G", "email": "g@example.com", "status": "open"}, "Invalid Ticket Status"),
    ({"name": "G", "email": "g@example.com", "created": "yesterday"}, "Invalid Date Format"),
    (
        {"name": "G", "email": "g@example.com", "created": "{future}"},
        "Reply creation date cannot be in the future",
    ),
    (
        {"name": "G", "email": "g@example.com", "attachments": "!!!"},
        "Attachments could not be read: send base64 of a JSON array of {name, data} objects",
    ),
]


@pytest.mark.parametrize(("changes", "message"), ERRORS)
def test_each_documented_error_and_nothing_is_stored(
    api, make, open_ticket, attachments_dir, changes, message
):
    account = make.client_account()
    ticket = open_ticket()
    fields = reply_fields(ticket)
    for name, value in changes.items():
        value = {"{client}": str(account.id), "{future}": future()}.get(value, value)
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    files_before = sorted(attachments_dir.rglob("*"))

    assert api(fields) == {"result": "error", "message": message}

    assert replies(ticket) == []
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.OPEN
    assert sorted(attachments_dir.rglob("*")) == files_before


def test_the_ticket_is_looked_up_before_anything_else(api):
    answer = api({"action": "AddTicketReply", "ticketid": "99999999", "clientid": "99999999"})

    assert answer["message"] == "Ticket ID not found"


def test_a_refused_attachment_stores_no_file(api, ticket, attachments_dir):
    answer = api(
        reply_fields(
            ticket,
            name="G",
            email="g@example.com",
            attachments=base64_files(("ok.txt", b"fine"), ("evil.php", b"<?php")),
        )
    )

    assert answer["message"].startswith("The file evil.php is not allowed")
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert [path for path in attachments_dir.rglob("*") if path.is_file()] == []
