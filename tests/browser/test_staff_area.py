"""The staff area in Chromium: Open New Ticket for clients and non-clients, and the ticket list."""

import re
from datetime import datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Ticket
from tests.factories import PASSWORD


@pytest.fixture
def staff_page(app, live_server, new_context, make):
    """A page signed in as a staff member, on a portal whose BASE_URL is the live server."""
    app.config["BASE_URL"] = live_server
    member = make.staff(first_name="Stella", last_name="Staff")
    page = new_context().new_page()
    page.goto("/staff/login")
    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    page.staff_member = member
    return page


@pytest.fixture
def account(make):
    account = make.client_account(
        first_name="Carla", last_name="Clientson", company_name="Acme Widgets"
    )
    make.contact(account, first_name="Connie", last_name="Contact", email="connie@example.com")
    make.service(account, product_name="VPS", domain="vps.acme.example")
    return account


def blocking_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def tickets() -> list[Ticket]:
    db.session.rollback()  # see what the live server committed since
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def fill_ticket(page, subject, message="Taken by phone."):
    page.get_by_label("Department").select_option(label="Support")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill(message)


def fill_non_client(page):
    page.get_by_label("Name", exact=True).fill("Nina Nonclient")
    page.get_by_label("Email", exact=True).fill("nina@example.org")


def test_a_ticket_for_a_client_with_a_contact_a_service_and_a_backdated_time(
    staff_page, account, make
):
    make.department(name="Support")
    page = staff_page
    page.get_by_role("link", name="Open New Ticket").click()
    page.get_by_label("Find client").fill("acme")
    client_choice = page.get_by_role("radio", name=re.compile("Carla Clientson \\(Acme Widgets\\)"))
    client_choice.check()
    page.get_by_label("Requestor").select_option(
        label="Connie Contact <connie@example.com> (contact)"
    )
    page.get_by_label("Related service or domain").select_option(
        label="Service: VPS - vps.acme.example (Active)"
    )
    fill_ticket(page, "Phoned in about the VPS", "The **VPS** does not boot.")
    page.get_by_label("Priority").select_option("High")
    page.get_by_label("Created").fill("2024-03-05T14:30")
    page.get_by_role("button", name="Open ticket").click()

    heading = page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))
    expect(heading).to_be_visible()
    [ticket] = tickets()
    expect(heading).to_have_text(f"Ticket Created #{ticket.tid}")
    assert ticket.client_id == account.id
    assert ticket.contact.name == "Connie Contact"
    assert ticket.service.product_name == "VPS"
    assert ticket.created_at == datetime(2024, 3, 5, 14, 30)
    assert ticket.priority == "High"
    assert ticket.opened_by_staff_id == page.staff_member.id
    assert not ticket.email_suppressed
    expect(page.get_by_text(ticket.access_code, exact=True)).to_be_visible()


def test_a_ticket_for_a_non_client_opens_from_the_access_code_link(staff_page, new_context, make):
    make.department(name="Support")
    page = staff_page
    page.goto("/staff/tickets/new")
    expect(page.get_by_role("radio", name=re.compile("^No client"))).to_be_checked()
    fill_non_client(page)
    fill_ticket(page, "Question from a visitor", "Where is the **pricing** page?")
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()

    [ticket] = tickets()
    assert ticket.client_id is None
    assert (ticket.name, ticket.email) == ("Nina Nonclient", "nina@example.org")
    link = page.get_by_label("Client's view link").input_value()
    assert link.endswith(f"/viewticket?tid={ticket.tid}&c={ticket.access_code}")

    stranger = new_context().new_page()
    stranger.goto(link)
    expect(stranger.get_by_role("heading", name="Question from a visitor")).to_be_visible()
    message = stranger.locator("#message .message-body").get_by_role("strong")
    expect(message).to_have_text("pricing")


def test_a_date_in_the_future_is_refused_and_everything_typed_is_kept(staff_page, make):
    make.department(name="Support")
    page = staff_page
    page.goto("/staff/tickets/new")
    fill_non_client(page)
    fill_ticket(page, "Not yet")
    later = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Created").fill(later)
    page.get_by_label("Send email to the client").uncheck()
    page.get_by_role("button", name="Open ticket").click()

    created = page.get_by_label("Created")
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_contain_text(
        "Ticket creation date cannot be in the future"
    )
    expect(created).to_have_accessible_description(
        re.compile("Ticket creation date cannot be in the future")
    )
    expect(created).to_have_value(later)
    expect(page.get_by_label("Subject")).to_have_value("Not yet")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Nina Nonclient")
    expect(page.get_by_label("Send email to the client")).not_to_be_checked()
    expect(page.get_by_label("Department")).to_have_value(re.compile(r"\d+"))
    assert tickets() == []
    assert blocking_violations(page) == []


def test_unticking_send_email_is_recorded_as_suppressed(staff_page, make):
    make.department(name="Support")
    page = staff_page
    page.goto("/staff/tickets/new")
    fill_non_client(page)
    fill_ticket(page, "Quiet one")
    expect(page.get_by_label("Send email to the client")).to_be_checked()
    page.get_by_label("Send email to the client").uncheck()
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()
    [ticket] = tickets()
    assert ticket.email_suppressed

    page.get_by_role("link", name=f"View ticket #{ticket.tid}").click()
    expect(page.get_by_text("Suppressed: no email was sent")).to_be_visible()


def new_ticket_page(new_context, make, *, javascript: bool):
    """Open New Ticket, reached through the login it sends a signed-out visitor to."""
    member = make.staff()
    page = new_context(java_script_enabled=javascript).new_page()
    page.goto("/staff/tickets/new")
    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Open New Ticket")).to_be_visible()
    return page


def test_the_form_works_without_javascript(new_context, app, live_server, make, account):
    make.department(name="Support")
    page = new_ticket_page(new_context, make, javascript=False)

    page.get_by_label("Subject").fill("Typed before the search")
    page.get_by_label("Find client").fill("Clientson")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status").filter(has_text="found")).to_have_text("1 client found.")
    expect(page.get_by_label("Subject")).to_have_value("Typed before the search")
    page.get_by_role("radio", name=re.compile("Carla Clientson")).check()
    page.get_by_role("button", name="Use selected client").click()
    page.get_by_label("Requestor").select_option(
        label="Connie Contact <connie@example.com> (contact)"
    )
    page.get_by_label("Department").select_option(label="Support")
    page.get_by_label("Message").fill("No script here")
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()
    [ticket] = tickets()
    assert ticket.client_id == account.id and ticket.contact.first_name == "Connie"


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_enter_searches_in_find_client_and_opens_the_ticket_from_the_subject(
    new_context, live_server, make, account, javascript
):
    make.department(name="Support")
    page = new_ticket_page(new_context, make, javascript=javascript)
    fill_ticket(page, "Sent with Enter")
    fill_non_client(page)

    page.get_by_label("Find client").fill("Clientson")
    page.get_by_label("Find client").press("Enter")
    expect(page.get_by_role("status").filter(has_text="found")).to_have_text("1 client found.")
    expect(page.get_by_label("Subject")).to_have_value("Sent with Enter")
    assert tickets() == []
    page.get_by_label("Subject").press("Enter")

    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()
    [ticket] = tickets()
    assert (ticket.subject, ticket.name, ticket.client_id) == (
        "Sent with Enter",
        "Nina Nonclient",
        None,
    )


def test_the_staff_pages_pass_the_accessibility_check(staff_page, make, account):
    make.department(name="Support")
    page = staff_page
    assert blocking_violations(page) == []

    page.goto("/staff/tickets/new")
    page.get_by_label("Find client").fill("acme")
    page.get_by_role("radio", name=re.compile("Carla Clientson")).check()
    expect(page.get_by_label("Requestor")).to_contain_text("Connie Contact")
    assert blocking_violations(page) == []

    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    assert blocking_violations(page) == []

    fill_ticket(page, "Accessible")
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()
    assert blocking_violations(page) == []

    page.get_by_role("link", name=re.compile(r"^View ticket #")).click()
    assert blocking_violations(page) == []

    page.get_by_role("link", name="Tickets", exact=True).click()
    expect(page.get_by_role("table")).to_contain_text("Accessible")
    assert blocking_violations(page) == []

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Staff sign in")).to_be_visible()
    assert blocking_violations(page) == []


def test_the_preview_follows_the_markdown_box_as_the_saved_ticket_does(staff_page, make):
    make.department(name="Support")
    page = staff_page
    page.goto("/staff/tickets/new")
    fill_non_client(page)
    fill_ticket(page, "Plain text, please", "Use **only** what I typed.")
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_role("strong")).to_have_text("only")

    page.get_by_label("Markdown").uncheck()

    expect(preview).to_contain_text("Use **only** what I typed.")
    expect(preview.get_by_role("strong")).to_have_count(0)
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()
    [ticket] = tickets()
    assert not ticket.is_markdown
    page.goto(f"/staff/tickets/{ticket.tid}")
    expect(page.get_by_text("Use **only** what I typed.")).to_be_visible()
