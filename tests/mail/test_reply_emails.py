"""Reply emails through the outbox and a real SMTP server: who gets what, and one thread."""

import pytest

from portal.extensions import db
from portal.tickets.notes import NoteRequest, add_note
from portal.tickets.replies import ReplyRequest, add_reply


@pytest.fixture
def ticket(opened, make, smtp, delivered):
    department = make.department(name="Support", email="support@portal.test")
    opened_ticket = opened(
        deptid=department.id,
        subject="Printer on fire",
        message="Help",
        name="Gus Guest",
        email="gus@example.com",
    )
    delivered(smtp)
    smtp.recorder.received.clear()
    return opened_ticket


def replied(ticket, settings, **fields):
    staff = fields.pop("staff", None)
    made = add_reply(db.session, ticket, ReplyRequest(**fields), settings, staff=staff)
    db.session.commit()
    return made


def test_a_staff_reply_mails_the_requester_with_the_reply_and_the_ticket(
    ticket, settings, make, smtp, delivered
):
    agent = make.staff(first_name="Demo", last_name="Admin")

    replied(ticket, settings, message="Have you tried **water**?", markdown=True, staff=agent)

    (received,) = delivered(smtp)
    message = received.message
    assert received.rcpt_tos == ["gus@example.com"]
    assert message["Subject"] == f"[Ticket ID: {ticket.tid}] Printer on fire"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Have you tried **water**?" in text and "<strong>water</strong>" in html
    assert f"Ticket ID: #{ticket.tid}" in text and "Status: Answered" in text
    assert f"/viewticket?tid={ticket.tid}&c={ticket.access_code}" in text


def test_no_email_when_the_staff_member_says_so(ticket, settings, make, smtp, delivered):
    replied(ticket, settings, message="Quiet fix", staff=make.staff(), noemail=True)

    assert delivered(smtp) == []


def test_a_client_reply_notifies_the_department_with_a_staff_link(
    ticket, settings, smtp, delivered
):
    replied(ticket, settings, message="It is still burning", client_area=True)

    (received,) = delivered(smtp)
    assert received.rcpt_tos == ["support@portal.test"]
    assert received.message["Subject"].startswith(f"[Ticket ID: {ticket.tid}] ")
    text = received.message.get_body(("plain",)).get_content()
    assert "It is still burning" in text and f"/staff/tickets/{ticket.tid}" in text


def test_a_note_sends_nothing(ticket, settings, make, smtp, delivered):
    add_note(db.session, ticket, NoteRequest(message="Secret plan"), settings, staff=make.staff())
    db.session.commit()

    assert delivered(smtp) == []


def test_every_message_of_a_ticket_threads_under_one_root(opened, make, settings, smtp, delivered):
    department = make.department(email="support@portal.test")
    ticket = opened(
        deptid=department.id, subject="Thread", message="m", name="Gus", email="gus@example.com"
    )
    replied(ticket, settings, message="answer", staff=make.staff())
    replied(ticket, settings, message="follow-up", client_area=True)

    received = delivered(smtp)
    assert len(received) == 4  # opened: confirmation and notice; a staff reply; a client reply
    roots = {(m.message["In-Reply-To"], m.message["References"]) for m in received}
    (root,) = roots
    assert root[0] == root[1] and root[0].startswith(f"<ticket-{ticket.id}@")
    ids = {m.message["Message-ID"] for m in received}
    assert len(ids) == 4 and root[0] not in ids
    assert all(f"[Ticket ID: {ticket.tid}]" in m.message["Subject"] for m in received)
