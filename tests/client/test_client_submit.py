"""Submitting tickets through the client area's forms."""

import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from portal.extensions import db
from portal.models import Editor, Priority, Ticket
from tests.client.conftest import upload


def ticket_count() -> int:
    return db.session.scalar(select(func.count(Ticket.id)))


def draft_of(html: str) -> str:
    return re.search(r'name="draft" value="([^"]+)"', html).group(1)


def guest_form(department, **fields) -> dict:
    form = {
        "deptid": str(department.id),
        "name": "Gwen Guest",
        "email": "gwen@example.com",
        "subject": "Cannot log in",
        "message": "Steps:\n\n1. open the page\n2. **nothing** happens",
        "priority": "High",
        "action": "submit",
    }
    form.update(fields)
    return form


def test_step_one_lists_visible_departments_and_marks_clients_only_ones(client, make):
    make.department(name="Sales")
    make.department(name="Billing", clients_only=True)
    make.department(name="Secret", hidden=True)

    page = client.get("/submitticket").text

    assert "Sales" in page and "Billing" in page
    assert "Secret" not in page
    assert "Log in to use this department." in page


def test_a_single_department_goes_straight_to_the_form(client, make):
    department = make.department(name="Support")

    response = client.get("/submitticket")

    assert response.status_code == 302
    assert response.location.endswith(f"/submitticket?deptid={department.id}")


def test_a_direct_link_opens_a_hidden_department(client, make):
    hidden = make.department(name="Secret", hidden=True)
    make.department()
    make.department()

    page = client.get(f"/submitticket?deptid={hidden.id}")

    assert page.status_code == 200
    assert f'<option value="{hidden.id}" selected>Secret</option>' in page.text


def test_a_guest_is_asked_to_log_in_for_a_clients_only_department(client, make):
    department = make.department(clients_only=True)

    response = client.get(f"/submitticket?deptid={department.id}")

    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert f"deptid%3D{department.id}" in response.location


def test_a_guest_cannot_post_to_a_clients_only_department(client, make):
    department = make.department(clients_only=True)
    draft = draft_of(client.get(f"/submitticket?deptid={make.department().id}").text)

    response = client.post("/submitticket", data=guest_form(department, draft=draft))

    assert response.status_code == 422
    assert "Log in to contact this department" in response.text
    assert ticket_count() == 0


def test_a_guest_opens_a_markdown_ticket_with_attachments(client, make):
    department = make.department()
    draft = draft_of(client.get(f"/submitticket?deptid={department.id}").text)
    form = guest_form(department, draft=draft)
    form["attachments"] = [upload("notes.txt", b"hello"), upload("scan.pdf", b"%PDF-1.4 x")]

    response = client.post("/submitticket", data=form, content_type="multipart/form-data")

    assert response.status_code == 303
    ticket = db.session.scalars(select(Ticket)).one()
    assert response.location == f"/submitticket/complete/{ticket.tid}"
    assert (ticket.name, ticket.email, ticket.client_id) == ("Gwen Guest", "gwen@example.com", None)
    assert ticket.editor == Editor.MARKDOWN
    assert ticket.priority == Priority.HIGH
    assert sorted(a.original_name for a in ticket.attachments) == ["notes.txt", "scan.pdf"]

    confirmation = client.get(response.location)
    assert f'Ticket Created #<span class="nowrap">{ticket.tid}</span>' in confirmation.text
    assert ticket.access_code in confirmation.text
    assert f"/viewticket?tid={ticket.tid}&amp;c={ticket.access_code}" in confirmation.text
    client.get(response.location)
    assert ticket_count() == 1


def test_priority_defaults_to_medium(client, make):
    department = make.department()

    page = client.get(f"/submitticket?deptid={department.id}").text

    assert "<option selected>Medium</option>" in page


def test_errors_keep_every_value_and_the_chosen_files(client, make, app):
    department = make.department()
    field = make.custom_field(department, name="Order number", required=True)
    draft = draft_of(client.get(f"/submitticket?deptid={department.id}").text)
    form = guest_form(department, draft=draft, subject="", **{f"customfield[{field.id}]": "A-7"})
    form["attachments"] = [upload("one.txt", b"first"), upload("two.png", b"\x89PNG\r\n\x1a\n")]

    first = client.post("/submitticket", data=form, content_type="multipart/form-data")

    assert first.status_code == 422
    assert ticket_count() == 0
    page = first.text
    assert page.count("You did not enter a subject") == 2  # in the summary and at the field
    assert 'href="#field-subject"' in page
    assert 'value="Gwen Guest"' in page and 'value="A-7"' in page
    assert "**nothing** happens" in page
    assert "Remove one.txt" in page and "Remove two.png" in page
    assert draft_of(page) == draft

    second = client.post(
        "/submitticket",
        data={**form, "subject": "Now with a subject", "attachments": []},
        content_type="multipart/form-data",
    )

    assert second.status_code == 303
    ticket = db.session.scalars(select(Ticket)).one()
    assert sorted(a.original_name for a in ticket.attachments) == ["one.txt", "two.png"]
    assert not list(Path(app.config["HELD_UPLOADS_DIR"]).rglob(draft))


@pytest.mark.parametrize(
    ("chosen", "attached"),
    [
        ("n" * 238 + ".txt", "n" * 238 + ".txt"),
        ("n" * 251 + ".txt", "n" * 251 + ".txt"),
        ("n" * 296 + ".txt", "n" * 251 + ".txt"),
        ("é" * 200 + ".txt", "é" * 125 + ".txt"),
    ],
    ids=["242 characters", "255 characters", "300 characters", "404 bytes of UTF-8"],
)
def test_a_long_file_name_is_held_across_errors_and_attached_within_255_bytes(
    client, make, chosen, attached
):
    department = make.department()
    draft = draft_of(client.get(f"/submitticket?deptid={department.id}").text)
    form = guest_form(department, draft=draft, subject="")
    form["attachments"] = [upload(chosen, b"notes")]

    first = client.post("/submitticket", data=form, content_type="multipart/form-data")

    assert first.status_code == 422
    assert "You did not enter a subject" in first.text
    assert 'value="Gwen Guest"' in first.text and "**nothing** happens" in first.text
    assert f"Remove {attached}<" in first.text
    second = client.post(
        "/submitticket",
        data={**form, "subject": "Now with a subject", "attachments": []},
        content_type="multipart/form-data",
    )
    assert second.status_code == 303
    [attachment] = db.session.scalars(select(Ticket)).one().attachments
    assert attachment.original_name == attached
    assert len(attached.encode()) <= 255


def test_held_files_come_back_and_are_attached_in_the_order_they_were_chosen(client, make):
    department = make.department()
    draft = draft_of(client.get(f"/submitticket?deptid={department.id}").text)
    form = guest_form(department, draft=draft, subject="")
    first_try = ["f.txt", "b.txt", "e.txt", "a.txt", "d.txt", "c.txt"]
    second_try = ["h.txt", "g.txt"]

    first = client.post(
        "/submitticket",
        data={**form, "attachments": [upload(name, b"x") for name in first_try]},
        content_type="multipart/form-data",
    )
    second = client.post(
        "/submitticket",
        data={**form, "attachments": [upload(name, b"x") for name in second_try]},
        content_type="multipart/form-data",
    )

    assert re.findall(r"Remove (\w\.txt)<", first.text) == first_try
    assert re.findall(r"Remove (\w\.txt)<", second.text) == first_try + second_try
    client.post("/submitticket", data={**form, "subject": "Ordered"})
    ticket = db.session.scalars(select(Ticket)).one()
    assert [a.original_name for a in ticket.attachments] == first_try + second_try


def test_a_held_file_can_be_removed(client, make):
    department = make.department()
    draft = draft_of(client.get(f"/submitticket?deptid={department.id}").text)
    form = guest_form(department, draft=draft, subject="")
    form["attachments"] = [upload("keep.txt", b"keep"), upload("drop.txt", b"drop")]
    page = client.post("/submitticket", data=form, content_type="multipart/form-data").text
    drop_key = re.search(r'name="remove_held" value="([^"]+)"><label[^>]*>Remove drop', page)[1]

    client.post(
        "/submitticket",
        data={**form, "subject": "Fine", "attachments": [], "remove_held": [drop_key]},
        content_type="multipart/form-data",
    )

    ticket = db.session.scalars(select(Ticket)).one()
    assert [a.original_name for a in ticket.attachments] == ["keep.txt"]


def test_a_refused_file_type_is_reported_and_not_held(client, make):
    department = make.department()
    draft = draft_of(client.get(f"/submitticket?deptid={department.id}").text)
    form = guest_form(department, draft=draft)
    form["attachments"] = [upload("run.exe", b"MZ")]

    response = client.post("/submitticket", data=form, content_type="multipart/form-data")

    assert response.status_code == 422
    assert "The file run.exe is not allowed" in response.text
    assert "Remove run.exe" not in response.text


def test_a_draft_token_from_another_session_holds_nothing_of_theirs(client, make, app):
    department = make.department()
    other = app.test_client()
    their_draft = draft_of(other.get(f"/submitticket?deptid={department.id}").text)
    form = guest_form(department, draft=their_draft, subject="")
    form["attachments"] = [upload("theirs.txt", b"secret")]
    other.post("/submitticket", data=form, content_type="multipart/form-data")

    page = client.post(
        "/submitticket", data={**form, "attachments": []}, content_type="multipart/form-data"
    ).text

    assert "theirs.txt" not in page
    assert draft_of(page) != their_draft


def test_guest_errors_use_the_client_area_wording(client, make):
    department = make.department()

    page = client.post(
        "/submitticket", data=guest_form(department, name="", email="", message="")
    ).text

    for message in (
        "You did not enter your name",
        "You did not enter your email address",
        "You did not enter a message",
    ):
        assert message in page
    bad_email = client.post("/submitticket", data=guest_form(department, email="nope")).text
    assert "The email address you entered was not valid" in bad_email


def test_custom_fields_are_checked_and_admin_only_ones_never_shown(client, make):
    department = make.department()
    required = make.custom_field(department, name="Order number", required=True)
    choice = make.custom_field(department, name="Browser", field_type="dropdown", options="a,b")
    make.custom_field(department, name="Staff notes", admin_only=True)

    form_page = client.get(f"/submitticket?deptid={department.id}").text
    response = client.post(
        "/submitticket",
        data=guest_form(department, **{f"customfield[{choice.id}]": "zzz"}),
    )

    assert "Staff notes" not in form_page
    assert f'<label for="field-customfield-{required.id}">Order number' in form_page
    assert response.status_code == 422
    assert "Order number is required" in response.text
    assert "Browser: choose one of the listed options" in response.text


def test_changing_department_without_javascript_keeps_the_text(client, make):
    first = make.department(name="Sales")
    second = make.department(name="Support")
    make.custom_field(first, name="Budget")
    make.custom_field(second, name="Server name")

    page = client.post(
        "/submitticket",
        data=guest_form(second, action="change_department", subject="Kept"),
    )

    assert page.status_code == 200
    assert "Server name" in page.text and "Budget" not in page.text
    assert 'value="Kept"' in page.text
    assert "There is a problem" not in page.text
    assert ticket_count() == 0


def test_the_custom_fields_fragment_leaves_out_admin_only_fields(client, make):
    department = make.department()
    make.custom_field(department, name="Visible")
    make.custom_field(department, name="Internal", admin_only=True)
    clients_only = make.department(clients_only=True)

    fragment = client.get(f"/submitticket/fields?deptid={department.id}").text

    assert "Visible" in fragment and "Internal" not in fragment
    assert client.get(f"/submitticket/fields?deptid={clients_only.id}").status_code == 404


def test_the_custom_fields_fragment_shows_one_department_hidden_or_not(client, make):
    listed = make.department(name="Sales")
    make.custom_field(listed, name="Budget")
    hidden = make.department(name="Abuse", hidden=True)
    make.custom_field(hidden, name="Offending address")

    listed_fields = client.get(f"/submitticket/fields?deptid={listed.id}").text
    hidden_fields = client.get(f"/submitticket/fields?deptid={hidden.id}").text

    assert "Budget" in listed_fields and "Offending address" not in listed_fields
    assert "Offending address" in hidden_fields and "Budget" not in hidden_fields
    assert client.get("/submitticket/fields?deptid=999999").status_code == 404


def test_the_preview_renders_markdown_safely(client):
    response = client.post(
        "/markdown-preview", data={"message": "**bold** <script>alert(1)</script>"}
    )

    assert response.mimetype == "text/html"
    assert "<strong>bold</strong>" in response.text
    assert "<script>" not in response.text


def test_the_preview_of_a_plain_message_shows_it_as_typed(client):
    response = client.post(
        "/markdown-preview", data={"message": "**bold** <b>x</b>", "editor": "plain"}
    )

    assert response.text == "<p>**bold** &lt;b&gt;x&lt;/b&gt;</p>"


def test_the_confirmation_of_someone_elses_ticket_is_not_shown(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department())

    response = client.get(f"/submitticket/complete/{ticket.tid}")

    assert response.status_code == 302
    assert ticket.access_code not in response.text


def test_an_unknown_department_is_not_found(client, make):
    make.department()

    assert client.get("/submitticket?deptid=999999").status_code == 404


# The key, the department and its fields, the ticket in its savepoint and its outbox rows, with
# room to spare; a signed-in client's account and user besides.
POST_STATEMENTS_BOUND = {"guest": 12, "signed-in client": 15}


@pytest.mark.parametrize("who", ["guest", "signed-in client"])
def test_a_submission_sends_a_bounded_number_of_statements(client, make, log_in, who):
    department = make.department(name="Support")
    acting_for = {}
    if who == "signed-in client":
        user = make.user()
        acting_for["account_id"] = make.client_account(owner=user).id
        log_in(user)
    page = client.get(f"/submitticket?deptid={department.id}").text
    form = guest_form(department, draft=draft_of(page), **acting_for)
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == test_thread:
            sent.append(statement)

    test_thread = threading.get_ident()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.post("/submitticket", data=form)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    assert response.status_code == 303
    assert len(sent) <= POST_STATEMENTS_BOUND[who], sent
