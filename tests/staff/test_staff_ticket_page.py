"""A ticket's staff page: reply, internal note, department/status/priority/subject, Close."""

import io
import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.mail import outbox
from portal.models import (
    OutboxMessage,
    Priority,
    Ticket,
    TicketNote,
    TicketReply,
    TicketStatus,
)
from portal.staff import ticket_pages
from portal.tickets import OpenTicketRequest, errors, open_ticket
from tests.conftest import stored_files
from tests.factories import PASSWORD


@pytest.fixture
def ticket(app, department, settings) -> Ticket:
    """A guest's ticket, opened through the core."""
    opened = open_ticket(
        db.session,
        OpenTicketRequest(
            deptid=department.id,
            subject="Printer on fire",
            message="It is on fire.",
            name="Gus Guest",
            email="gus@example.com",
        ),
        settings,
    )
    db.session.commit()
    return opened


def page_of(client, ticket: Ticket) -> str:
    return client.get(f"/staff/tickets/{ticket.tid}").get_data(as_text=True)


def drafts_of(page: str) -> list[str]:
    """The page's draft tokens: the reply form's, then the note form's."""
    return re.findall(r'name="draft" value="([^"]+)"', page)


def reply_form(client, ticket: Ticket, **fields) -> dict:
    """The reply form as a browser sends it untouched, with `fields` typed over it."""
    data = {"draft": drafts_of(page_of(client, ticket))[0], "markdown": "1"}
    data |= {"status": "Answered", "send_email": "1", "action": "send"}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def note_form(client, ticket: Ticket, **fields) -> dict:
    data = {"draft": drafts_of(page_of(client, ticket))[1], "markdown": "1", "action": "send"}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def change_form(ticket: Ticket, **fields) -> dict:
    data = {
        "deptid": str(ticket.department_id),
        "status": ticket.status,
        "priority": ticket.priority,
        "subject": ticket.subject,
    }
    return data | fields


def count(model) -> int:
    db.session.rollback()  # read what the requests committed
    return db.session.scalar(select(func.count()).select_from(model))


def reply_emails() -> list[OutboxMessage]:
    db.session.rollback()
    statement = select(OutboxMessage).where(OutboxMessage.kind == outbox.Kind.TICKET_REPLY)
    return list(db.session.scalars(statement))


def test_the_page_has_a_reply_form_a_note_form_and_the_ticket_controls(staff_client, ticket):
    page = page_of(staff_client, ticket)
    assert f'action="/staff/tickets/{ticket.tid}/reply#reply"' in page
    assert f'action="/staff/tickets/{ticket.tid}/note#note"' in page
    assert f'action="/staff/tickets/{ticket.tid}/change#ticket-controls"' in page
    assert f'action="/staff/tickets/{ticket.tid}/close"' in page
    assert page.count('name="csrf_token"') >= 5  # the four forms and signing out
    # Every control has a label, and the two compose forms' ids do not clash.
    ids = re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    labelled = set(re.findall(r'<label for="([^"]+)"', page))
    assert {"reply-field-message", "reply-field-markdown", "reply-field-attachments"} <= labelled
    assert {"reply-field-status", "reply-field-send_email"} <= labelled
    assert {"note-field-message", "note-field-markdown", "note-field-attachments"} <= labelled
    assert {"change-field-deptid", "change-field-status", "change-field-priority"} <= labelled
    # The defaults: markdown, Answered afterwards, and the client emailed.
    assert re.search(r'id="reply-field-markdown"[^>]* checked', page)
    assert re.search(r'id="reply-field-send_email"[^>]* checked', page)
    status_select = page[page.index('id="reply-field-status"') :]
    assert "<option selected>Answered</option>" in status_select[: status_select.index("</select>")]
    assert "Allowed file extensions: " in page and "Up to " in page
    assert "Close ticket" in page


def test_a_staff_reply_sets_answered_and_emails_the_client(staff_client, staff_member, ticket):
    response = staff_client.post(
        f"/staff/tickets/{ticket.tid}/reply",
        data=reply_form(staff_client, ticket, message="Have you tried **water**?"),
    )
    assert response.status_code == 303
    reply = db.session.scalars(select(TicketReply)).one()
    assert response.headers["Location"] == f"/staff/tickets/{ticket.tid}#reply-{reply.id}"
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.ANSWERED
    assert ticket.last_reply_name == staff_member.name and ticket.last_reply_staff
    assert reply.staff_id == staff_member.id and reply.editor == "markdown"
    assert [email.reply_id for email in reply_emails()] == [reply.id]
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket_pages.REPLY_SENT in page
    assert "Have you tried <strong>water</strong>?" in page


def test_a_chosen_status_is_set_and_no_email_is_sent_when_unticked(staff_client, ticket):
    response = staff_client.post(
        f"/staff/tickets/{ticket.tid}/reply",
        data=reply_form(staff_client, ticket, message="On it", status="On Hold", send_email=None),
    )
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.ON_HOLD
    assert count(TicketReply) == 1
    assert reply_emails() == []
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket_pages.REPLY_NOT_EMAILED in page


def test_a_reply_without_markdown_is_plain_text(staff_client, ticket):
    staff_client.post(
        f"/staff/tickets/{ticket.tid}/reply",
        data=reply_form(staff_client, ticket, message="**not bold**", markdown=None),
    )
    reply = db.session.scalars(select(TicketReply)).one()
    assert reply.editor == "plain"
    page = page_of(staff_client, ticket)
    assert "**not bold**" in page and "<strong>not bold</strong>" not in page


def test_a_refused_reply_keeps_the_text_and_files_and_leaves_no_row_and_no_file(
    staff_client, ticket, attachments_dir
):
    data = reply_form(
        staff_client,
        ticket,
        message="Typed <words>",
        status="Nonsense",
        attachments=[(io.BytesIO(b"log line"), "log.txt")],
    )
    refused = staff_client.post(
        f"/staff/tickets/{ticket.tid}/reply", data=data, content_type="multipart/form-data"
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert errors.INVALID_TICKET_STATUS in page
    assert 'href="#reply-field-status"' in page
    assert ">Typed &lt;words&gt;</textarea>" in page
    assert "Remove log.txt" in page
    assert count(TicketReply) == 0 and stored_files(attachments_dir) == []
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN

    # The next try sends the held file with the reply.
    draft = drafts_of(page)[0]
    assert draft == data["draft"]
    again = staff_client.post(
        f"/staff/tickets/{ticket.tid}/reply",
        data=reply_form(staff_client, ticket, message="Typed", draft=draft),
    )
    assert again.status_code == 303
    reply = db.session.scalars(select(TicketReply)).one()
    assert [attachment.original_name for attachment in reply.attachments] == ["log.txt"]
    assert len(stored_files(attachments_dir)) == 1


def test_a_blank_reply_is_refused_with_the_cores_message(staff_client, ticket):
    refused = staff_client.post(
        f"/staff/tickets/{ticket.tid}/reply", data=reply_form(staff_client, ticket, message="  ")
    )
    assert refused.status_code == 422
    assert errors.MESSAGE_REQUIRED in refused.get_data(as_text=True)
    assert count(TicketReply) == 0


def test_a_resent_reply_adds_one_reply_and_one_email(staff_client, ticket):
    data = reply_form(staff_client, ticket, message="Only once")
    first = staff_client.post(f"/staff/tickets/{ticket.tid}/reply", data=data)
    second = staff_client.post(f"/staff/tickets/{ticket.tid}/reply", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(TicketReply) == 1 and len(reply_emails()) == 1
    page = staff_client.get(second.headers["Location"]).get_data(as_text=True)
    assert ticket_pages.ALREADY_SENT in page


def test_preview_without_javascript_honours_the_markdown_box(staff_client, ticket):
    url = f"/staff/tickets/{ticket.tid}/reply"
    shown = staff_client.post(
        url, data=reply_form(staff_client, ticket, message="**bold**", action="preview")
    )
    assert shown.status_code == 200
    assert preview_of(shown.text) == "<p><strong>bold</strong></p>"
    plain = staff_client.post(
        url,
        data=reply_form(staff_client, ticket, message="**bold**", action="preview", markdown=None),
    )
    assert preview_of(plain.text) == "<p>**bold**</p>"
    assert not re.search(r'id="reply-field-markdown"[^>]* checked', plain.text)
    assert count(TicketReply) == 0


def preview_of(page: str) -> str:
    """What the reply form's preview shows."""
    found = re.search(r'data-preview-target aria-live="polite">(.*?)</div>', page, re.S)
    assert found, "no preview"
    return found.group(1).strip()


def test_the_live_preview_honours_the_markdown_box(staff_client):
    as_markdown = staff_client.post(
        "/markdown-preview", data={"message": "**b**", "editor": "markdown"}
    )
    as_plain = staff_client.post("/markdown-preview", data={"message": "**b**", "editor": "plain"})
    unsaid = staff_client.post("/markdown-preview", data={"message": "**b**"})
    assert "<strong>b</strong>" in as_markdown.text and "<strong>b</strong>" in unsaid.text
    assert as_plain.text == "<p>**b**</p>"


def test_a_note_is_for_staff_alone_and_in_no_email(app, staff_client, ticket):
    staff_client.post(
        f"/staff/tickets/{ticket.tid}/reply", data=reply_form(staff_client, ticket, message="A")
    )
    response = staff_client.post(
        f"/staff/tickets/{ticket.tid}/note",
        data=note_form(staff_client, ticket, message="Secret **staff** remark"),
    )
    assert response.status_code == 303
    note = db.session.scalars(select(TicketNote)).one()
    assert response.headers["Location"] == f"/staff/tickets/{ticket.tid}#note-{note.id}"
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.ANSWERED  # a note changes no status

    staff_page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket_pages.NOTE_ADDED in staff_page
    assert "Secret <strong>staff</strong> remark" in staff_page
    assert "Internal note: not visible to the client" in staff_page

    # A later reply's email carries its own text, never the note.
    staff_client.post(
        f"/staff/tickets/{ticket.tid}/reply",
        data=reply_form(staff_client, ticket, message="Second answer"),
    )
    # The guest's own link, in a browser without the staff session.
    view = app.test_client().get(
        "/viewticket", query_string={"tid": ticket.tid, "c": ticket.access_code}
    )
    assert view.status_code == 200
    assert "Second answer" in view.text
    assert "Secret" not in view.text and "Internal note" not in view.text

    db.session.rollback()
    rows = list(db.session.scalars(select(OutboxMessage)))
    assert {row.kind for row in rows} >= {outbox.Kind.TICKET_REPLY}
    settings = outbox.MessageSettings.from_config(app.config)
    for row in rows:
        composed = outbox.compose(row, settings)
        assert "Secret" not in composed.message, row.kind
    assert any("Second answer" in outbox.compose(row, settings).message for row in rows)


def test_a_refused_note_keeps_the_text_and_a_resent_one_is_added_once(staff_client, ticket):
    url = f"/staff/tickets/{ticket.tid}/note"
    refused = staff_client.post(url, data=note_form(staff_client, ticket, message=""))
    assert refused.status_code == 422
    assert errors.MESSAGE_REQUIRED in refused.text
    assert 'href="#note-field-message"' in refused.text
    assert count(TicketNote) == 0

    data = note_form(staff_client, ticket, message="Once")
    first = staff_client.post(url, data=data)
    second = staff_client.post(url, data=data)
    assert first.status_code == second.status_code == 303
    assert count(TicketNote) == 1
    assert count(OutboxMessage) == 2  # the ticket's opening messages, nothing for the note


def test_a_note_keeps_its_files_across_errors(staff_client, ticket, attachments_dir):
    url = f"/staff/tickets/{ticket.tid}/note"
    data = note_form(
        staff_client, ticket, message="", attachments=[(io.BytesIO(b"x"), "trace.txt")]
    )
    refused = staff_client.post(url, data=data, content_type="multipart/form-data")
    assert refused.status_code == 422 and "Remove trace.txt" in refused.text
    assert stored_files(attachments_dir) == []
    staff_client.post(url, data={**data, "message": "See the trace", "attachments": []})
    note = db.session.scalars(select(TicketNote)).one()
    assert [attachment.original_name for attachment in note.attachments] == ["trace.txt"]


def test_changing_department_status_priority_and_subject(staff_client, ticket, make):
    sales = make.department(name="Sales")
    response = staff_client.post(
        f"/staff/tickets/{ticket.tid}/change",
        data=change_form(
            ticket, deptid=str(sales.id), status="In Progress", priority="High", subject="Fire!"
        ),
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/tickets/{ticket.tid}"
    db.session.refresh(ticket)
    assert (ticket.department_id, ticket.status) == (sales.id, TicketStatus.IN_PROGRESS)
    assert (ticket.priority, ticket.subject) == (Priority.HIGH, "Fire!")
    assert count(OutboxMessage) == 2  # nothing sent for a change
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket_pages.TICKET_CHANGED in page
    assert f'<option value="{sales.id}" selected>Sales</option>' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("deptid", "999999", errors.DEPARTMENT_ID_NOT_FOUND),
        ("deptid", "99999999999999999999", errors.DEPARTMENT_ID_NOT_FOUND),
        ("priority", "Urgent", errors.invalid_priority(["Low", "Medium", "High"])),
        ("status", "Nonsense", errors.invalid_status([status.value for status in TicketStatus])),
    ],
)
def test_bad_changes_are_refused_with_the_cores_messages(
    staff_client, ticket, field, value, message
):
    before = (ticket.department_id, ticket.status, ticket.priority, ticket.subject)
    refused = staff_client.post(
        f"/staff/tickets/{ticket.tid}/change",
        data=change_form(ticket, subject="Typed subject", **{field: value}),
    )
    assert refused.status_code == 422
    assert message in refused.text
    assert f'href="#change-field-{field}"' in refused.text
    assert 'value="Typed subject"' in refused.text  # the form as typed
    db.session.rollback()
    db.session.refresh(ticket)
    assert (ticket.department_id, ticket.status, ticket.priority, ticket.subject) == before


def test_closing_records_when_and_by_whom(staff_client, staff_member, ticket):
    response = staff_client.post(f"/staff/tickets/{ticket.tid}/close")
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.CLOSED
    assert ticket.closed_at is not None and ticket.closed_by_name == staff_member.name
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket_pages.TICKET_CLOSED in page
    assert "This ticket is closed" in page and f"by {staff_member.name}" in page
    assert "Close ticket</button>" not in page

    again = staff_client.post(f"/staff/tickets/{ticket.tid}/close", follow_redirects=True)
    assert ticket_pages.ALREADY_CLOSED in again.text


def test_closing_by_the_status_control_records_who_too(staff_client, staff_member, ticket):
    staff_client.post(
        f"/staff/tickets/{ticket.tid}/change", data=change_form(ticket, status="Closed")
    )
    db.session.refresh(ticket)
    assert ticket.is_closed and ticket.closed_by_name == staff_member.name


def test_an_unknown_ticket_is_not_found_on_every_action(staff_client):
    for action in ("reply", "note", "change", "close"):
        response = staff_client.post(f"/staff/tickets/NOPE-000000/{action}", data={"message": "x"})
        assert response.status_code == 404, action


ACTIONS = ("reply", "note", "change", "close")


def test_strangers_and_client_users_may_not_use_any_action(client, ticket, make):
    def tried() -> list[int]:
        data = {"message": "Sneaky", "status": "Closed", "subject": "Hacked"}
        return [
            client.post(f"/staff/tickets/{ticket.tid}/{action}", data=data).status_code
            for action in ACTIONS
        ]

    assert tried() == [403] * len(ACTIONS)
    owner = make.client_account().owner
    client.post("/login", data={"email": owner.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert session.get("_user_id") == f"user:{owner.id}", "the client login did not work"
    assert tried() == [403] * len(ACTIONS)
    assert count(TicketReply) == count(TicketNote) == 0
    db.session.refresh(ticket)
    assert (ticket.status, ticket.subject) == (TicketStatus.OPEN, "Printer on fire")
