"""The conversation's core: AddTicketReply, AddTicketNote and UpdateTicket as WHMCS has them."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Attachment,
    OutboxMessage,
    Priority,
    TicketNote,
    TicketReply,
    TicketStatus,
    utcnow,
)
from portal.tickets import statuses
from portal.tickets.changes import TicketChange, close_ticket, update_ticket
from portal.tickets.errors import NotAllowed, NoteError, ReplyError, UpdateTicketError
from portal.tickets.notes import NoteRequest, add_note
from portal.tickets.replies import ReplyRequest, add_reply, set_status
from tests.core.conftest import encode_attachments

ALL_STATUSES = list(TicketStatus)


@pytest.fixture
def ticket(open_, guest_request):
    return open_(guest_request())


@pytest.fixture
def reply(ticket, settings):
    """add_reply as a door calls it: committed on success, rolled back on refusal."""

    def call(staff=None, **fields):
        try:
            made = add_reply(db.session, ticket, ReplyRequest(**fields), settings, staff=staff)
        except (ReplyError, NotAllowed):
            db.session.rollback()
            raise
        db.session.commit()
        return made

    return call


def reply_refusal(reply, **fields) -> list[str]:
    with pytest.raises(ReplyError) as refused:
        reply(**fields)
    return [error.message for error in refused.value.errors]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- Who writes, and the status afterwards --------------------------------------------------


@pytest.mark.parametrize("before", ALL_STATUSES)
@pytest.mark.parametrize(
    ("author", "chosen", "after"),
    [
        ("staff", None, TicketStatus.ANSWERED),
        ("staff", TicketStatus.ON_HOLD, TicketStatus.ON_HOLD),
        ("staff", TicketStatus.CLOSED, TicketStatus.CLOSED),
        ("guest", None, TicketStatus.CUSTOMER_REPLY),
        ("guest", TicketStatus.IN_PROGRESS, TicketStatus.IN_PROGRESS),
        ("client area", None, TicketStatus.CUSTOMER_REPLY),
        # The client area chooses no status: its reply is a customer's reply.
        ("client area", TicketStatus.CLOSED, TicketStatus.CUSTOMER_REPLY),
    ],
)
def test_the_status_after_a_reply(ticket, reply, make, before, author, chosen, after):
    set_status(ticket, before, by="Someone")
    db.session.commit()
    fields = {"message": "Thanks", "status": chosen.value if chosen else None}
    if author == "staff":
        fields["staff"] = make.staff()
    elif author == "guest":
        fields.update(name="Gus Guest", email="gus@example.com")
    else:
        fields["client_area"] = True

    reply(**fields)

    assert ticket.status == after
    assert (ticket.closed_at is not None) == (after is TicketStatus.CLOSED)


def test_a_staff_reply_is_signed_with_the_staff_members_name(ticket, reply, make):
    agent = make.staff(first_name="Demo", last_name="Admin")

    made = reply(staff=agent, message="On it")

    assert made.by_staff and made.name == "Demo Admin" and made.email == ""
    assert ticket.last_reply_name == "Demo Admin" and ticket.last_reply_staff
    assert ticket.last_reply_at == made.created_at


def test_a_client_reply_writes_as_the_account_owner_or_the_named_contact(open_, settings, make):
    account = make.client_account()
    cody = make.contact(account)
    ticket = open_(
        OpenTicketRequest_for(account, make.department()),
    )

    by_owner = add_reply(
        db.session, ticket, ReplyRequest(message="a", clientid=account.id), settings
    )
    by_contact = add_reply(
        db.session,
        ticket,
        ReplyRequest(message="b", clientid=account.id, contactid=cody.id),
        settings,
    )

    assert by_owner.name == account.owner.name and by_owner.user_id == account.owner.id
    assert by_contact.name == cody.name and by_contact.contact_id == cody.id
    assert not by_owner.by_staff and ticket.status == TicketStatus.CUSTOMER_REPLY


def OpenTicketRequest_for(account, department):
    from portal.tickets import OpenTicketRequest

    return OpenTicketRequest(
        deptid=department.id, subject="Help", message="Please", clientid=account.id
    )


def test_the_client_area_replies_as_the_signed_in_member_only(open_, settings, make):
    account = make.client_account()
    ticket = open_(OpenTicketRequest_for(account, make.department()))
    stranger = make.user()

    with pytest.raises(NotAllowed):
        add_reply(
            db.session,
            ticket,
            ReplyRequest(message="hi", client_area=True, signed_in_user=stranger),
            settings,
        )
    db.session.rollback()
    with pytest.raises(NotAllowed):
        add_reply(db.session, ticket, ReplyRequest(message="hi", client_area=True), settings)
    db.session.rollback()

    made = add_reply(
        db.session,
        ticket,
        ReplyRequest(message="hi", client_area=True, signed_in_user=account.owner),
        settings,
    )
    assert made.user_id == account.owner.id and made.email == account.owner.email


def test_a_guests_reply_in_the_client_area_is_the_tickets_guest(ticket, reply):
    made = reply(message="More detail", client_area=True, name="Mallory", email="m@evil.example")

    assert (made.name, made.email) == (ticket.name, ticket.email)


# --- AddTicketReply's errors, in WHMCS's order ---------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"message": "x", "clientid": "999999"}, ["Client ID Not Found"]),
        ({"message": "x", "clientid": "{client}", "contactid": "999999"}, ["Contact ID Not Found"]),
        ({"message": "x"}, ["Name and email address are required if not a client"]),
        ({"message": "x", "name": "Gus"}, ["Name and email address are required if not a client"]),
        ({"message": "   ", "name": "Gus", "email": "g@example.com"}, ["Message is required"]),
        ({"message": "x", "name": "Gus", "email": "not-an-address"}, ["Email Address Invalid"]),
        (
            {"message": "", "name": "Gus", "email": "nope"},
            ["Message is required", "Email Address Invalid"],
        ),
        (
            {"message": "x", "name": "G", "email": "g@example.com", "status": "Pending"},
            ["Invalid Ticket Status"],
        ),
        (
            {"message": "x", "name": "G", "email": "g@example.com", "created": "yesterday-ish"},
            ["Invalid Date Format"],
        ),
        (
            {"message": "x", "name": "G", "email": "g@example.com", "created": "{future}"},
            ["Reply creation date cannot be in the future"],
        ),
    ],
)
def test_add_reply_refuses_with_whmcs_errors(reply, make, fields, expected):
    account = make.client_account()
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    fields = {
        key: value.replace("{client}", str(account.id)).replace("{future}", future)
        if isinstance(value, str)
        else value
        for key, value in fields.items()
    }

    assert reply_refusal(reply, **fields) == expected
    assert count(TicketReply) == 0


def test_a_backdated_reply_keeps_its_time(reply, make):
    made = reply(staff=make.staff(), message="Earlier", created="2026-01-02 03:04:05")

    assert made.created_at.isoformat() == "2026-01-02T03:04:05"


def test_a_refused_reply_leaves_no_row_and_no_file(reply, attachments_dir):
    files = encode_attachments(("log.txt", b"fine"), ("evil.php", b"<?php"))

    messages = reply_refusal(reply, message="x", name="G", email="g@example.com", attachments=files)

    assert any("evil.php" in message for message in messages)
    assert count(TicketReply) == 0 and count(Attachment) == 0
    assert not [p for p in attachments_dir.rglob("*") if p.is_file()]


def test_a_replys_files_are_its_own_not_the_opening_messages(ticket, reply):
    made = reply(
        message="Here",
        name="G",
        email="g@example.com",
        attachments=encode_attachments(("a.txt", b"A")),
    )

    db.session.expire_all()
    assert [a.original_name for a in made.attachments] == ["a.txt"]
    assert made.attachments[0].ticket_id == ticket.id
    assert ticket.attachments == []


# --- Email ----------------------------------------------------------------------------------


def outbox_kinds() -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))


def test_replies_queue_their_emails_unless_noemail(open_, guest_request, make, settings):
    department = make.department(email="support@example.com")
    ticket = open_(guest_request(deptid=department.id))
    opened = outbox_kinds()

    add_reply(db.session, ticket, ReplyRequest(message="a"), settings, staff=make.staff())
    add_reply(db.session, ticket, ReplyRequest(message="b", client_area=True), settings)
    add_reply(
        db.session, ticket, ReplyRequest(message="c", noemail=True), settings, staff=make.staff()
    )
    db.session.commit()

    assert outbox_kinds()[len(opened) :] == ["ticket_reply", "reply_notice"]


# --- Notes ----------------------------------------------------------------------------------


def test_a_note_changes_nothing_the_client_sees_and_sends_nothing(ticket, settings, make):
    before = (ticket.status, ticket.updated_at, ticket.last_reply_at, outbox_kinds())

    note = add_note(
        db.session,
        ticket,
        NoteRequest(message="Check **logs**", markdown=True),
        settings,
        staff=make.staff(first_name="Nora", last_name="Note"),
    )
    db.session.commit()

    assert note.name == "Nora Note" and "<strong>logs</strong>" in note.message_html
    assert (ticket.status, ticket.updated_at, ticket.last_reply_at, outbox_kinds()) == before


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"message": ""}, "Message is required"),
        ({"message": "x", "created": "31/12/2020"}, "Invalid Date Format"),
        (
            {"message": "x", "created": "2999-01-01 00:00:00"},
            "Ticket creation date cannot be in the future",
        ),
    ],
)
def test_add_note_refuses_with_whmcs_errors(ticket, settings, make, fields, expected):
    with pytest.raises(NoteError) as refused:
        add_note(db.session, ticket, NoteRequest(**fields), settings, staff=make.staff())
    db.session.rollback()

    assert refused.value.message == expected and count(TicketNote) == 0


# --- UpdateTicket and closing ---------------------------------------------------------------


def test_update_ticket_changes_what_it_is_given(ticket, settings, make):
    billing = make.department(name="Billing")

    update_ticket(
        db.session,
        ticket,
        TicketChange(deptid=billing.id, status="On Hold", priority="High", subject="New subject"),
        settings,
        staff=make.staff(),
    )
    db.session.commit()

    assert (ticket.department, ticket.status, ticket.priority, ticket.subject) == (
        billing,
        TicketStatus.ON_HOLD,
        Priority.HIGH,
        "New subject",
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"deptid": "999999"}, "Department ID Not Found"),
        ({"priority": "Urgent"}, "Invalid Ticket Priority. Valid priorities are: Low,Medium,High"),
        (
            {"status": "Pending"},
            "Invalid Ticket Status. Valid statuses are: "
            "Open,Answered,Customer-Reply,On Hold,In Progress,Closed",
        ),
        ({"created": "soon"}, "Invalid Date Format"),
        ({"created": "2999-01-01"}, "Ticket creation date cannot be in the future"),
    ],
)
def test_update_ticket_refuses_with_whmcs_errors(ticket, settings, make, change, expected):
    before = (ticket.department_id, ticket.status, ticket.priority)

    with pytest.raises(UpdateTicketError) as refused:
        update_ticket(db.session, ticket, TicketChange(**change), settings, staff=make.staff())
    db.session.rollback()

    assert refused.value.message == expected
    assert (ticket.department_id, ticket.status, ticket.priority) == before


def test_closing_records_when_and_by_whom_and_a_reply_reopens(ticket, reply, make):
    assert close_ticket(db.session, ticket, by="Stan Staff") is True
    assert close_ticket(db.session, ticket, by="Stan Staff") is False
    db.session.commit()
    assert ticket.is_closed and ticket.closed_by_name == "Stan Staff"
    assert ticket.closed_at is not None and ticket.updated_at >= ticket.created_at

    reply(message="Still broken", client_area=True)

    assert ticket.status == TicketStatus.CUSTOMER_REPLY
    assert ticket.closed_at is None and ticket.closed_by_name == ""


def test_the_status_sets_are_whmcs_defaults():
    assert {TicketStatus.OPEN, TicketStatus.CUSTOMER_REPLY} == statuses.AWAITING_REPLY
    assert TicketStatus.CLOSED not in statuses.ACTIVE and len(statuses.ACTIVE) == 5
    assert statuses.filtered("Awaiting Reply") == statuses.AWAITING_REPLY
    assert statuses.filtered("nonsense") is None
