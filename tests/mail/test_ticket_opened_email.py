"""What a newly opened ticket sends, read back from a real SMTP server on loopback."""

import re

import pytest

from portal.extensions import db
from portal.mail import KIND_LABELS, DeliverySettings, deliver_due, relay_of
from portal.mail.outbox import Kind
from portal.models import OutboxStatus
from portal.tickets import OpenTicketRequest, open_ticket
from tests.mail.conftest import outbox_rows


def by_recipient(received):
    return {tuple(r.rcpt_tos): r for r in received}


def plain(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html(message) -> str:
    return message.get_body(("html",)).get_content().replace("\r\n", "\n")


def guest_ticket(department, **changes):
    fields = dict(
        deptid=str(department.id),
        subject="Printer on fire",
        message="It is *really* on fire.",
        name="Gus Guest",
        email="gus@example.com",
        priority="High",
        markdown=True,
    )
    fields.update(changes)
    return fields


def test_a_guest_ticket_mails_the_requester_and_the_department(make, opened, smtp, delivered):
    department = make.department(name="Sales", email="sales@example.com")

    ticket = opened(**guest_ticket(department))

    received = by_recipient(delivered(smtp))
    assert set(received) == {("gus@example.com",), ("sales@example.com",)}
    reply = received[("gus@example.com",)]
    message = reply.message
    assert reply.mail_from == "sales@example.com"
    assert message["Subject"] == f"[Ticket ID: {ticket.tid}] Printer on fire"
    assert message["From"] == "Sales <sales@example.com>"
    assert message["To"] == "Gus Guest <gus@example.com>"
    assert message["Cc"] is None
    assert re.search(rb"\r\nMessage-ID: <[^@>\s]+@portal\.test>\r\n", reply.data)
    assert message["Date"].datetime is not None
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    link = f"http://portal.test/viewticket?tid={ticket.tid}&c={ticket.access_code}"
    text = plain(message)
    assert "Thank you for contacting our support team" in text
    for line in (
        "Subject: Printer on fire",
        "Department: Sales",
        "Priority: High",
        "Status: Open",
        link,
    ):
        assert line in text
    assert f'<a href="{link.replace("&", "&amp;")}">' in html(message)


def test_the_department_notice_carries_the_message_in_both_parts(make, opened, smtp, delivered):
    department = make.department(name="Sales", email="sales@example.com")

    ticket = opened(**guest_ticket(department))

    notice = by_recipient(delivered(smtp))[("sales@example.com",)].message
    assert notice["Subject"] == f"[Ticket ID: {ticket.tid}] New Support Ticket: Printer on fire"
    assert "Requester: Gus Guest <gus@example.com>" in plain(notice)
    assert "It is *really* on fire." in plain(notice)
    assert "<em>really</em>" in html(notice)


def test_rows_are_recorded_as_sent_once(make, opened, smtp, delivered):
    department = make.department()

    ticket = opened(**guest_ticket(department))
    delivered(smtp)

    rows = outbox_rows()
    assert [(r.ticket_id, r.status, r.attempts) for r in rows] == [
        (ticket.id, OutboxStatus.SENT, 1),
        (ticket.id, OutboxStatus.SENT, 1),
    ]
    assert all(r.sent_at is not None and r.last_error == "" for r in rows)


def test_a_contact_requester_is_in_cc_and_gets_one_copy(make, opened, smtp, delivered):
    department = make.department()
    account = make.client_account()
    contact = make.contact(
        account, first_name="Cody", last_name="Contact", email="cody@example.com"
    )

    opened(
        deptid=department.id,
        clientid=account.id,
        contactid=contact.id,
        subject="Invoice",
        message="Where is it?",
    )

    reply = by_recipient(delivered(smtp))[("cody@example.com",)]
    assert reply.message["To"] == "Cody Contact <cody@example.com>"
    assert reply.message["Cc"] == "cody@example.com"


def test_a_staff_opened_ticket_sends_the_message_itself(make, opened, smtp, delivered):
    department = make.department(name="Support", email="support@example.com", no_autoresponder=True)
    staff = make.staff(first_name="Stan", last_name="Staff")

    ticket = opened(
        **guest_ticket(department, message="We **fixed** it.\n\nBye"),
        admin=True,
        acting_staff=staff,
    )

    received = by_recipient(delivered(smtp))
    message = received[("gus@example.com",)].message
    assert message["Subject"] == f"[Ticket ID: {ticket.tid}] Printer on fire"
    assert plain(message).startswith("We **fixed** it.\n\nBye\n")
    assert "Thank you for contacting" not in plain(message)
    assert "<strong>fixed</strong>" in html(message)
    notice = received[("support@example.com",)].message
    assert "opened in Support by Stan Staff" in plain(notice)
    kinds = {row.kind for row in outbox_rows()}
    assert {KIND_LABELS[kind] for kind in kinds} == {
        "Support Ticket Opened by Admin",
        "New Support Ticket Notification",
    }


@pytest.mark.parametrize("admin", [False, True])
def test_noemail_sends_nothing(make, opened, smtp, delivered, admin):
    department = make.department()

    opened(
        **guest_ticket(department, noemail=True),
        admin=admin,
        acting_staff=make.staff() if admin else None,
    )

    assert delivered(smtp) == []
    assert outbox_rows() == []


def test_no_autoresponder_spares_the_requester_but_not_the_department(
    make, opened, smtp, delivered
):
    department = make.department(email="sales@example.com", no_autoresponder=True)

    opened(**guest_ticket(department))

    assert [r.rcpt_tos for r in delivered(smtp)] == [["sales@example.com"]]


def test_no_autoresponder_and_no_department_address_send_nothing(make, opened, smtp, delivered):
    department = make.department(email="", no_autoresponder=True)

    opened(**guest_ticket(department))

    assert delivered(smtp) == []
    assert outbox_rows() == []


def test_a_department_without_address_sends_from_the_default_sender(make, opened, smtp, delivered):
    department = make.department(name="Billing", email="")

    opened(**guest_ticket(department))

    [reply] = delivered(smtp)
    assert reply.mail_from == "portal@portal.test"
    assert reply.message["From"] == "Portal <portal@portal.test>"


def test_non_ascii_headers_are_encoded_and_line_breaks_cannot_add_headers(
    make, opened, smtp, delivered
):
    department = make.department(name="Técnico", email="tecnico@example.com")

    subject = "Grüße \u2013 Drucker\r\nBcc: evil@example.com"

    ticket = opened(
        **guest_ticket(department, subject=subject, name="Jörg Müller", email="jorg@exämple.com")
    )

    received = by_recipient(delivered(smtp))
    reply = received[("jorg@xn--exmple-cua.com",)]
    assert reply.data.isascii()
    message = reply.message
    assert message["Subject"] == (
        f"[Ticket ID: {ticket.tid}] Grüße \u2013 Drucker Bcc: evil@example.com"
    )
    assert message["Bcc"] is None
    assert message["From"] == "Técnico <tecnico@example.com>"
    assert message["To"] == "Jörg Müller <jorg@xn--exmple-cua.com>"
    assert "Dear Jörg Müller," in plain(message)


def test_a_rolled_back_ticket_sends_nothing(make, settings, opened, smtp, delivered):
    department = make.department()
    open_ticket(db.session, OpenTicketRequest(**guest_ticket(department)), settings)
    db.session.rollback()

    make.department()  # a later commit in the same session must not find the old rows

    assert delivered(smtp) == []
    assert outbox_rows() == []


def test_rows_are_written_with_the_ticket_and_composed_once_when_delivered(
    app, make, settings, smtp
):
    relay_of(app).enabled = False  # so that the rows are seen as the commit left them
    opened = open_ticket(db.session, OpenTicketRequest(**guest_ticket(make.department())), settings)
    db.session.commit()

    rows = [(row.ticket_id, row.kind, row.message) for row in outbox_rows()]
    assert rows == [
        (opened.id, Kind.TICKET_OPENED, ""),
        (opened.id, Kind.NEW_TICKET_NOTICE, ""),
    ]
    report = deliver_due(db.engine, DeliverySettings.from_config(app.config))

    assert (report.claimed, report.sent) == (2, 2)
    stored = [row.message.encode() for row in outbox_rows()]
    # The bytes sent are the bytes kept, for a retry and for staff to inspect.
    assert sorted(stored) == sorted(received.data for received in smtp.received)


def test_eml_files_when_no_server_is_configured(app_config, tmp_path, make, opened, app):
    # The fixture's app has a server; a second app without one shares the same database.
    from portal import create_app
    from portal.mail import register_mail

    eml_app = create_app({**app_config, "MAIL_SERVER": ""})
    register_mail(eml_app)
    department = make.department()
    with eml_app.app_context():
        ticket = opened(**guest_ticket(department))
        tid = ticket.tid
        assert relay_of(eml_app).wait(10)
        db.session.remove()
        db.engine.dispose()

    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    assert not list((tmp_path / "mail").glob("*.tmp"))
    subjects = {file.read_bytes().split(b"Subject: ")[1].split(b"\r\n")[0] for file in files}
    assert f"[Ticket ID: {tid}] Printer on fire".encode() in subjects
    assert {row.status for row in outbox_rows()} == {OutboxStatus.SENT}


@pytest.mark.parametrize(
    "separator", ["\u2028", "\u2029", "\x85"], ids=["U+2028", "U+2029", "U+0085"]
)
def test_a_line_separator_in_the_name_or_subject_is_mailed_as_a_space(
    make, opened, smtp, delivered, separator
):
    department = make.department(name="Sales", email="sales@example.com")

    ticket = opened(
        **guest_ticket(department, name=f"Dana{separator}Doe", subject=f"Printer{separator}on fire")
    )

    received = by_recipient(delivered(smtp))
    assert set(received) == {("gus@example.com",), ("sales@example.com",)}
    assert {row.status for row in outbox_rows()} == {OutboxStatus.SENT}
    confirmation = received[("gus@example.com",)].message
    assert confirmation["Subject"] == f"[Ticket ID: {ticket.tid}] Printer on fire"
    assert confirmation["To"] == "Dana Doe <gus@example.com>"
    assert "Dear Dana Doe," in plain(confirmation)
    assert "\nSubject: Printer on fire\n" in plain(confirmation)
    assert "<td>Printer on fire</td>" in html(confirmation)
    assert "<title>[Ticket ID: " + ticket.tid + "] Printer on fire</title>" in html(confirmation)
    notice = received[("sales@example.com",)].message
    assert notice["Subject"] == f"[Ticket ID: {ticket.tid}] New Support Ticket: Printer on fire"
    assert "Requester: Dana Doe <gus@example.com>" in plain(notice)
    assert "<td>Dana Doe &lt;gus@example.com&gt;</td>" in html(notice)
