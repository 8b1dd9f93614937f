"""Open New Ticket: staff open tickets for clients and non-clients with every OpenTicket option."""

import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage, Ticket
from portal.tickets import errors

PAGE = "/staff/tickets/new"


@pytest.fixture
def account(make):
    return make.client_account(
        first_name="Carla", last_name="Clientson", company_name="Acme Widgets"
    )


def only_ticket() -> Ticket:
    tickets = list(db.session.scalars(select(Ticket)))
    assert len(tickets) == 1
    return tickets[0]


def form(**fields):
    """The form as a browser sends it untouched: the boxes ticked by default are ticked."""
    data = {
        "send_email": "1",
        "markdown": "1",
        "priority": "Medium",
        "prevent_client_closure": "inherit",
        "action": "open",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_the_form_has_every_control_with_a_visible_label(staff_client, department):
    page = staff_client.get(PAGE).get_data(as_text=True)
    for control, label in [
        ("field-q", "Find client"),
        ("field-requestor", "Requestor"),
        ("field-related", "Related service or domain"),
        ("field-name", "Name"),
        ("field-email", "Email"),
        ("field-deptid", "Department"),
        ("field-subject", "Subject"),
        ("field-priority", "Priority"),
        ("field-message", "Message"),
        ("field-markdown", "Markdown"),
        ("field-attachments", "Attachments"),
        ("field-created", "Created"),
        ("field-send_email", "Send email to the client"),
        ("field-prevent_client_closure", "Prevent client closure"),
    ]:
        assert re.search(rf'<label for="{control}">{re.escape(label)}( <span|</label>)', page), (
            control
        )
        assert f'id="{control}"' in page, control
    assert 'type="datetime-local"' in page
    assert re.search(r"<option selected>Medium</option>", page)
    assert re.search(r'id="field-send_email"[^>]*checked', page)
    assert re.search(r'id="field-markdown"[^>]*checked', page)
    assert '<option value="inherit" selected>Inherit from department</option>' in page


def test_every_department_is_offered_hidden_and_clients_only_included(staff_client, make):
    make.department(name="Abuse", hidden=True)
    make.department(name="Technical", clients_only=True)
    page = staff_client.get(PAGE).get_data(as_text=True)
    assert "Abuse (hidden)" in page
    assert "Technical (clients only)" in page


def test_a_ticket_for_a_client_with_a_contact_a_service_and_a_backdated_time(
    staff_client, staff_member, department, account, make
):
    contact = make.contact(account, first_name="Connie", email="connie@example.com")
    service = make.service(account, product_name="VPS")
    response = staff_client.post(
        PAGE,
        data=form(
            clientid=str(account.id),
            requestor=f"contact:{contact.id}",
            related=f"S{service.id}",
            deptid=str(department.id),
            subject="Phone call",
            message="Called about **VPS**",
            priority="High",
            created="2024-03-05T14:30",
        ),
    )
    assert response.status_code == 303
    ticket = only_ticket()
    assert response.headers["Location"] == f"/staff/tickets/{ticket.tid}/created"
    assert ticket.client_id == account.id
    assert ticket.contact_id == contact.id
    assert ticket.cc == "connie@example.com"
    assert ticket.service_id == service.id
    assert ticket.priority == "High"
    assert ticket.created_at == datetime(2024, 3, 5, 14, 30)
    assert ticket.opened_by_staff_id == staff_member.id
    assert ticket.is_markdown
    assert not ticket.email_suppressed


def test_a_ticket_for_a_user_of_the_account_and_one_of_its_domains(
    staff_client, department, account, make
):
    second = make.user(first_name="Sam")
    make.member(account, second)
    domain = make.domain(account)
    staff_client.post(
        PAGE,
        data=form(
            clientid=str(account.id),
            requestor=f"user:{second.id}",
            related=f"D{domain.id}",
            deptid=str(department.id),
            subject="Renewal",
            message="Renew it",
        ),
    )
    ticket = only_ticket()
    assert ticket.user_id == second.id
    assert ticket.domain_id == domain.id
    assert ticket.email == second.email


def test_a_ticket_for_a_non_client(staff_client, department):
    response = staff_client.post(
        PAGE,
        data=form(
            clientid="",
            name="Nina Nonclient",
            email="nina@example.org",
            deptid=str(department.id),
            subject="Question",
            message="Plain text\nkept",
            markdown=None,
        ),
    )
    assert response.status_code == 303
    ticket = only_ticket()
    assert ticket.client_id is None
    assert (ticket.name, ticket.email) == ("Nina Nonclient", "nina@example.org")
    assert ticket.editor == "plain"
    assert ticket.priority == "Medium"


def test_a_date_in_the_future_is_refused_with_the_cores_message(staff_client, department):
    tomorrow = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="Later",
            message="Hi",
            created=tomorrow,
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert errors.DATE_IN_FUTURE == "Ticket creation date cannot be in the future"
    assert re.search(
        r'id="field-created-error">\s*<p><span class="visually-hidden">Error: '
        r"</span>Ticket creation date cannot be in the future</p>",
        page,
    )
    assert f'value="{tomorrow}"' in page
    assert db.session.scalars(select(Ticket)).first() is None


def test_unticking_send_email_is_recorded_as_suppressed(staff_client, department):
    staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="Quiet",
            message="No email please",
            send_email=None,
        ),
    )
    ticket = only_ticket()
    assert ticket.email_suppressed
    assert (
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)
        ).first()
        is None
    )


def test_prevent_client_closure_overrides_or_inherits_the_department(staff_client, make):
    closing = make.department(prevent_client_closure=True)
    for choice, expected in [("inherit", True), ("no", False)]:
        staff_client.post(
            PAGE,
            data=form(
                name="Nina",
                email="nina@example.org",
                deptid=str(closing.id),
                subject=choice,
                message="Hi",
                prevent_client_closure=choice,
            ),
        )
        ticket = db.session.scalar(select(Ticket).where(Ticket.subject == choice))
        assert ticket.prevent_client_closure is expected
    staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(make.department().id),
            subject="yes",
            message="Hi",
            prevent_client_closure="yes",
        ),
    )
    assert db.session.scalar(select(Ticket).where(Ticket.subject == "yes")).prevent_client_closure


def test_admin_only_custom_fields_are_offered_and_stored(staff_client, department, make):
    secret = make.custom_field(department, name="Internal note", admin_only=True)
    public = make.custom_field(department, name="Order number")
    page = staff_client.get(PAGE, query_string={}).get_data(as_text=True)
    assert "Internal note" not in page  # no department chosen yet
    fragment = staff_client.get(f"{PAGE}/fields", query_string={"deptid": department.id})
    assert "Internal note" in fragment.get_data(as_text=True)
    assert "Order number" in fragment.get_data(as_text=True)
    staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="Fields",
            message="Hi",
            **{f"customfield[{secret.id}]": "VIP", f"customfield[{public.id}]": "42"},
        ),
    )
    values = {value.field_id: value.value for value in only_ticket().custom_field_values}
    assert values == {secret.id: "VIP", public.id: "42"}


def test_a_required_admin_only_field_is_checked(staff_client, department, make):
    make.custom_field(department, name="Internal note", admin_only=True, required=True)
    response = staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="Fields",
            message="Hi",
        ),
    )
    assert response.status_code == 422
    assert "Internal note is required" in response.get_data(as_text=True)


def test_errors_are_the_cores_messages_next_to_their_fields_with_everything_kept(
    staff_client, department, make
):
    field = make.custom_field(department, name="Order number")
    response = staff_client.post(
        PAGE,
        data=form(
            q="Carla",
            clientid="",
            name="",
            email="",
            deptid=str(department.id),
            subject="",
            message="Typed *message*",
            priority="High",
            created="2020-01-02T03:04",
            send_email=None,
            markdown=None,
            prevent_client_closure="yes",
            **{f"customfield[{field.id}]": "A-17"},
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for control, message in [
        ("name", errors.NAME_AND_EMAIL_REQUIRED),
        ("email", errors.NAME_AND_EMAIL_REQUIRED),
        ("subject", errors.SUBJECT_REQUIRED),
    ]:
        assert re.search(
            rf'id="field-{control}-error">\s*<p><span class="visually-hidden">'
            rf"Error: </span>{re.escape(message)}</p>",
            page,
        ), control
    # The summary lists each error once, in the core's order, linked to its field.
    assert page.index(errors.NAME_AND_EMAIL_REQUIRED) < page.index(errors.SUBJECT_REQUIRED)
    assert f'<a href="#field-name">{errors.NAME_AND_EMAIL_REQUIRED}</a>' in page
    assert 'value="Carla"' in page
    assert ">Typed *message*</textarea>" in page
    assert "<option selected>High</option>" in page
    assert 'value="2020-01-02T03:04"' in page
    assert not re.search(r'id="field-send_email"[^>]*checked', page)
    assert not re.search(r'id="field-markdown"[^>]*checked', page)
    assert '<option value="yes" selected>Yes</option>' in page
    assert f'<option value="{department.id}" selected>' in page
    assert 'value="A-17"' in page


def test_a_client_not_found_is_shown_at_the_client_choice(staff_client, department):
    response = staff_client.post(
        PAGE,
        data=form(
            clientid="999999",
            deptid=str(department.id),
            subject="S",
            message="M",
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(
        r'id="field-clientid-error">\s*<p><span class="visually-hidden">Error: '
        r"</span>Client ID Not Found</p>",
        page,
    )


def test_a_service_of_another_account_is_refused_at_the_related_field(
    staff_client, department, account, make
):
    other = make.service(make.client_account())
    response = staff_client.post(
        PAGE,
        data=form(
            clientid=str(account.id),
            related=f"S{other.id}",
            deptid=str(department.id),
            subject="S",
            message="M",
        ),
    )
    assert response.status_code == 422
    assert re.search(
        r'id="field-related-error">\s*<p><span class="visually-hidden">Error: '
        r"</span>Service ID Not Found</p>",
        response.get_data(as_text=True),
    )


def test_a_chosen_client_keeps_its_requestor_and_related_choices_on_error(
    staff_client, department, account, make
):
    contact = make.contact(account)
    service = make.service(account)
    page = staff_client.post(
        PAGE,
        data=form(
            clientid=str(account.id),
            requestor=f"contact:{contact.id}",
            related=f"S{service.id}",
            deptid=str(department.id),
            subject="",
            message="M",
        ),
    ).get_data(as_text=True)
    assert re.search(rf'id="client-{account.id}" value="{account.id}" checked', page)
    assert f'<option value="contact:{contact.id}" selected>' in page
    assert f'<option value="S{service.id}" selected>' in page


def test_attachments_are_stored_and_new_ones_held_when_the_form_is_refused(
    staff_client, department, attachments_dir
):
    first = staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="",
            message="M",
            draft=draft_of(staff_client),
            attachments=[(io.BytesIO(b"log line"), "log.txt")],
        ),
        content_type="multipart/form-data",
    )
    assert first.status_code == 422
    page = first.get_data(as_text=True)
    assert "Remove log.txt" in page
    draft = re.search(r'name="draft" value="([^"]+)"', page).group(1)
    response = staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="Logs",
            message="M",
            draft=draft,
            attachments=[(io.BytesIO(b"%PDF-1.4 x"), "more.pdf")],
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    names = sorted(attachment.original_name for attachment in only_ticket().attachments)
    assert names == ["log.txt", "more.pdf"]


def test_a_refused_file_is_named_and_not_held(staff_client, department):
    response = staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="S",
            message="M",
            draft=draft_of(staff_client),
            attachments=[(io.BytesIO(b"<?php"), "shell.php")],
        ),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The file shell.php is not allowed" in page
    assert "Remove shell.php" not in page


def test_held_files_can_be_removed(staff_client, department):
    draft = draft_of(staff_client)
    refused = staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="",
            message="M",
            draft=draft,
            attachments=[(io.BytesIO(b"x"), "drop.txt")],
        ),
        content_type="multipart/form-data",
    )
    key = re.search(r'name="remove_held" value="([^"]+)"', refused.get_data(as_text=True))
    staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="S",
            message="M",
            draft=draft,
            remove_held=key.group(1),
        ),
    )
    assert only_ticket().attachments == []


def test_preview_without_javascript_renders_the_message_and_keeps_held_files(
    staff_client, department
):
    draft = draft_of(staff_client)
    staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="",
            message="M",
            draft=draft,
            attachments=[(io.BytesIO(b"x"), "kept.txt")],
        ),
        content_type="multipart/form-data",
    )
    response = staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="",
            message="**bold** <script>x</script>",
            draft=draft,
            action="preview",
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>bold</strong>" in page
    assert "<script>x</script>" not in page
    assert "Remove kept.txt" in page


def test_preview_without_javascript_shows_a_plain_message_as_it_will_be_saved(
    staff_client, department
):
    response = staff_client.post(
        PAGE,
        data=form(
            deptid=str(department.id),
            subject="S",
            message="**not bold**",
            markdown=None,
            draft=draft_of(staff_client),
            action="preview",
        ),
    )

    page = response.get_data(as_text=True)
    assert "<p>**not bold**</p>" in page
    assert "<strong>not bold</strong>" not in page
    assert not re.search(r'id="field-markdown"[^>]*checked', page)


def draft_of(client) -> str:
    page = client.get(PAGE).get_data(as_text=True)
    return re.search(r'name="draft" value="([^"]+)"', page).group(1)


def test_search_without_javascript_lists_clients_as_choices_and_keeps_the_form(
    staff_client, department, account, make
):
    make.client_account(first_name="Other", last_name="Person")
    response = staff_client.post(
        PAGE,
        data=form(
            q="acme",
            action="search",
            subject="Kept subject",
            message="Kept message",
            deptid=str(department.id),
        ),
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 client found." in page
    assert re.search(rf'<input type="radio" name="clientid" id="client-{account.id}"', page)
    assert "Other Person" not in page
    assert 'value="Kept subject"' in page and ">Kept message</textarea>" in page
    assert db.session.scalars(select(Ticket)).first() is None


@pytest.mark.parametrize(
    ("query", "results_for", "searches"),
    [
        ("acme", "", True),
        ("acme ", "Clientson", True),
        ("acme", "acme", False),
        ("", "", False),
        ("   ", "acme", False),
    ],
    ids=["new-query", "changed-query", "query-already-listed", "no-query", "blank-query"],
)
def test_enter_searches_for_a_new_client_query_and_opens_the_ticket_otherwise(
    staff_client, department, account, query, results_for, searches
):
    response = staff_client.post(
        PAGE,
        data=form(
            action="enter",
            q=query,
            results_for=results_for,
            name="Nina Nonclient",
            email="nina@example.org",
            deptid=str(department.id),
            subject="Sent with Enter",
            message="Typed first",
        ),
    )
    if searches:
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "1 client found." in page
        assert f'name="results_for" value="{query}"' in page
        assert 'value="Sent with Enter"' in page
        assert db.session.scalars(select(Ticket)).first() is None
    else:
        assert response.status_code == 303
        assert only_ticket().subject == "Sent with Enter"


def test_enter_is_the_forms_first_button_and_unseen(staff_client, department):
    page = staff_client.get(PAGE).get_data(as_text=True)
    the_form = page[page.index('id="open-ticket-form"') :]
    buttons = re.findall(r"<button [^>]*>", the_form)
    assert 'value="enter"' in buttons[0]
    assert 'class="visually-hidden"' in buttons[0] and 'tabindex="-1"' in buttons[0]


def test_choosing_a_client_without_javascript_offers_its_requestors_and_records(
    staff_client, account, make
):
    contact = make.contact(account, first_name="Connie")
    service = make.service(account, product_name="VPS")
    page = staff_client.post(
        PAGE,
        data=form(
            q="acme",
            clientid=str(account.id),
            action="choose",
        ),
    ).get_data(as_text=True)
    owner = account.owner
    assert f'<option value="user:{owner.id}" selected>' in page
    assert f'<option value="contact:{contact.id}">Connie' in page
    assert f'<option value="S{service.id}">Service: VPS' in page


def test_success_shows_the_ticket_number_access_code_and_view_link(staff_client, department):
    response = staff_client.post(
        PAGE,
        data=form(
            name="Nina",
            email="nina@example.org",
            deptid=str(department.id),
            subject="Done",
            message="M",
        ),
        follow_redirects=True,
    )
    ticket = only_ticket()
    page = response.get_data(as_text=True)
    assert f"<h1>Ticket Created #{ticket.tid}</h1>" in page
    assert f'<code class="code">{ticket.access_code}</code>' in page
    link = f"http://portal.test/viewticket?tid={ticket.tid}&amp;c={ticket.access_code}"
    assert f'value="{link}" readonly' in page
    assert '<label for="view-link">' in page
    # Reloading the confirmation opens nothing more.
    staff_client.get(f"/staff/tickets/{ticket.tid}/created")
    assert len(list(db.session.scalars(select(Ticket)))) == 1


def test_the_fields_of_an_unknown_department_are_not_found(staff_client):
    assert staff_client.get(f"{PAGE}/fields", query_string={"deptid": 999999}).status_code == 404
