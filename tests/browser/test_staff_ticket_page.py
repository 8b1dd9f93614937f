"""A ticket's staff page in Chromium: reply, note, details and Close, with JavaScript on and off."""

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Ticket, TicketStatus
from portal.tickets import OpenTicketRequest, TicketSettings, open_ticket
from tests.browser.test_staff_area import blocking_violations
from tests.factories import PASSWORD


@pytest.fixture
def ticket(app, make) -> Ticket:
    opened = open_ticket(
        db.session,
        OpenTicketRequest(
            deptid=make.department(name="Support").id,
            subject="Printer on fire",
            message="It is on fire.",
            name="Gus Guest",
            email="gus@example.com",
        ),
        TicketSettings.from_config(app.config),
    )
    db.session.commit()
    return opened


def staff_ticket_page(new_context, make, ticket: Ticket, *, javascript: bool):
    member = make.staff(first_name="Stella", last_name="Staff")
    page = new_context(java_script_enabled=javascript).new_page()
    page.goto("/staff/login")
    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/staff/tickets/{ticket.tid}")
    return page


def fresh(ticket: Ticket) -> Ticket:
    db.session.rollback()  # see what the live server committed
    db.session.refresh(ticket)
    return ticket


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_staff_reply_note_change_and_close(new_context, make, ticket, javascript):
    page = staff_ticket_page(new_context, make, ticket, javascript=javascript)
    reply = page.locator("#reply")
    note = page.locator("#note")

    # A refused reply comes back with the core's message; the typed status is kept.
    reply.get_by_label("Status after reply").select_option("On Hold")
    reply.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("alert").filter(has_text="Message is required")).to_be_visible()
    expect(page.locator("#reply").get_by_label("Status after reply")).to_have_value("On Hold")

    reply = page.locator("#reply")
    reply.get_by_label("Message").fill("Have you tried **water**?")
    if javascript:
        expect(reply.locator("[data-preview-target] strong")).to_have_text("water")
        reply.get_by_label("Markdown").uncheck()
        expect(reply.locator("[data-preview-target]")).to_have_text("Have you tried **water**?")
        reply.get_by_label("Markdown").check()
    reply.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").filter(has_text="Your reply was added")).to_be_visible()
    expect(page.locator(".thread")).to_contain_text("Have you tried water?")
    assert fresh(ticket).status == TicketStatus.ON_HOLD

    note = page.locator("#note")
    note.get_by_label("Note").fill("Call him tomorrow")
    note.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status").filter(has_text="internal note was added")).to_be_visible()
    expect(page.locator(".thread-note")).to_contain_text("Internal note: not visible")

    controls = page.locator("#ticket-controls")
    controls.get_by_label("Priority").select_option("High")
    controls.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text="The ticket was saved")).to_be_visible()
    assert fresh(ticket).priority == "High"

    page.get_by_role("button", name="Close ticket").click()
    expect(page.get_by_role("status").filter(has_text="The ticket was closed")).to_be_visible()
    expect(page.locator("#ticket-controls")).to_contain_text("This ticket is closed")
    closed = fresh(ticket)
    assert closed.is_closed and closed.closed_by_name == "Stella Staff"
    assert [reply.message for reply in closed.replies] == ["Have you tried **water**?"]
    assert [note.message for note in closed.notes] == ["Call him tomorrow"]


def test_the_ticket_page_passes_the_accessibility_check(new_context, make, ticket):
    page = staff_ticket_page(new_context, make, ticket, javascript=True)
    assert blocking_violations(page) == []
    page.locator("#note").get_by_role("button", name="Add note").click()
    expect(page.get_by_role("alert").filter(has_text="Message is required")).to_be_visible()
    assert blocking_violations(page) == []
    page.goto("/staff/?q=fire&status=Awaiting+Reply")
    expect(page.get_by_role("table")).to_contain_text("Printer on fire")
    assert blocking_violations(page) == []
    assert re.search(r"#\w", page.locator("td.tid").first.inner_text())
