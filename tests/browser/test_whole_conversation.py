"""A whole conversation in Chromium, as the two people have it: a guest and a staff member.

The guest opens a ticket, staff answers, the guest reads the answer and replies, staff adds a
note the guest never sees and closes the ticket, and the guest's next reply reopens it.
"""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Ticket, TicketStatus
from tests.browser.test_browser_client import blocking_violations
from tests.factories import PASSWORD


def the_ticket() -> Ticket:
    db.session.rollback()  # see what the live server committed
    return db.session.scalars(select(Ticket)).one()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_guest_and_staff_converse_until_the_guest_reopens_it(new_context, make, javascript):
    make.department(name="Support")
    member = make.staff(first_name="Stella", last_name="Staff")
    guest = new_context(java_script_enabled=javascript).new_page()
    staff = new_context(java_script_enabled=javascript).new_page()

    # The guest opens a ticket and follows the link to it.
    guest.goto("/submitticket")
    guest.get_by_label("Name", exact=True).fill("Gwen Guest")
    guest.get_by_label("Email", exact=True).fill("gwen@example.com")
    guest.get_by_label("Subject").fill("Cannot log in")
    guest.get_by_label("Message").fill("The login page says **error 42**.")
    guest.get_by_role("button", name="Submit").click()
    expect(guest.get_by_role("heading", name=re.compile("Ticket Created"))).to_be_visible()
    guest.get_by_role("link", name=re.compile("View ticket")).click()
    expect(guest.get_by_role("heading", name="Cannot log in")).to_be_visible()
    ticket_page = guest.url
    # axe runs as a script in the page: only where scripts run.
    assert not javascript or blocking_violations(guest) == []

    # Staff answer it from the list.
    staff.goto("/staff/login")
    staff.get_by_label("Username").fill(member.username)
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    staff.get_by_role("link", name=re.compile(the_ticket().tid)).click()
    staff.locator("#reply").get_by_label("Message").fill("Please clear your **cookies**.")
    staff.locator("#reply").get_by_role("button", name="Send reply").click()
    expect(staff.get_by_role("status").filter(has_text="Your reply was added")).to_be_visible()
    assert the_ticket().status == TicketStatus.ANSWERED

    # The guest sees the answer, marked as Staff's, and replies.
    guest.goto(ticket_page)
    answer = guest.get_by_role("listitem").filter(has_text="Please clear your")
    expect(answer.get_by_text("Staff", exact=True)).to_be_visible()
    expect(answer.get_by_role("strong").filter(has_text="cookies")).to_have_count(1)
    guest.get_by_label("Message").fill("Done; it works now.")
    guest.get_by_role("button", name="Reply", exact=True).click()
    expect(guest.get_by_role("status").filter(has_text="Your reply was sent.")).to_be_visible()
    expect(guest.get_by_text("Done; it works now.")).to_be_visible()
    assert the_ticket().status == TicketStatus.CUSTOMER_REPLY
    assert not javascript or blocking_violations(guest) == []

    # Staff note what happened, which the guest never sees, and close the ticket.
    staff.reload()
    expect(staff.get_by_text("Done; it works now.")).to_be_visible()
    staff.locator("#note").get_by_label("Note").fill("Stale session cookie; see KB 12.")
    staff.locator("#note").get_by_role("button", name="Add note").click()
    expect(staff.get_by_text("Internal note: not visible to the client")).to_be_visible()
    staff.get_by_role("button", name="Close ticket").click()
    expect(staff.get_by_role("status").filter(has_text="The ticket was closed")).to_be_visible()

    guest.goto(ticket_page)
    expect(
        guest.get_by_text("This ticket is closed. You may reply to this ticket to reopen it.")
    ).to_be_visible()
    expect(guest.get_by_text("Stale session cookie")).to_have_count(0)
    expect(guest.get_by_text("Internal note")).to_have_count(0)

    # The guest's reply reopens it.
    guest.get_by_label("Message").fill("Sorry, it broke again.")
    guest.get_by_role("button", name="Reply", exact=True).click()
    expect(guest.get_by_text("Sorry, it broke again.")).to_be_visible()
    reopened = the_ticket()
    assert reopened.status == TicketStatus.CUSTOMER_REPLY and reopened.closed_at is None
    assert [reply.message for reply in reopened.replies] == [
        "Please clear your **cookies**.",
        "Done; it works now.",
        "Sorry, it broke again.",
    ]
    assert [note.message for note in reopened.notes] == ["Stale session cookie; see KB 12."]
