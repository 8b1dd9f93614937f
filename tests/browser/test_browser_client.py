"""The client area in Chromium: what guests and clients do, with and without JavaScript."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Editor, Ticket, TicketStatus
from portal.tickets import IncomingFile, OpenTicketRequest, TicketSettings, open_ticket
from tests.factories import PASSWORD

PHONE = {"width": 375, "height": 740}


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


def files(tmp_path, *names_and_bytes):
    paths = []
    for name, data in names_and_bytes:
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def fill_guest_form(page, subject="Cannot log in"):
    page.get_by_label("Name", exact=True).fill("Gwen Guest")
    page.get_by_label("Email", exact=True).fill("gwen@example.com")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill(
        "Steps to see it:\n\n- open **the page**\n- read [the docs](https://example.com/docs)"
    )


def log_in(page, user):
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_guest_ticket_with_two_attachments_and_markdown(new_context, make, tmp_path):
    make.department(name="Support")
    page = new_context(viewport=PHONE).new_page()
    page.goto("/submitticket")

    fill_guest_form(page)
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_role("link", name="the docs")).to_be_visible()
    expect(preview.get_by_role("listitem")).to_have_count(2)
    page.get_by_label("Attachments").set_input_files(
        files(tmp_path, ("notes.txt", b"some notes"), ("screen.png", b"\x89PNG\r\n\x1a\nxx"))
    )
    expect(page.get_by_role("list", name="Files chosen").get_by_role("listitem")).to_have_text(
        [re.compile(r"^notes\.txt"), re.compile(r"^screen\.png")]
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert blocking_violations(page) == []
    page.get_by_role("button", name="Submit").click()

    heading = page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))
    expect(heading).to_be_visible()
    [ticket] = tickets()
    assert heading.text_content() == f"Ticket Created #{ticket.tid}"
    expect(page.get_by_text(ticket.access_code)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert blocking_violations(page) == []
    assert ticket.editor == Editor.MARKDOWN
    assert sorted(a.original_name for a in ticket.attachments) == ["notes.txt", "screen.png"]

    page.reload()
    assert len(tickets()) == 1
    page.get_by_role("link", name=f"View ticket #{ticket.tid}").click()
    expect(page.get_by_role("heading", name=f"View Ticket #{ticket.tid}")).to_be_visible()
    expect(page.get_by_role("link", name="the docs")).to_be_visible()
    expect(page.get_by_role("link", name="notes.txt")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert blocking_violations(page) == []


def test_a_validation_error_keeps_the_files(new_context, make, tmp_path):
    make.department(name="Support")
    page = new_context().new_page()
    page.goto("/submitticket")

    fill_guest_form(page, subject="")
    page.get_by_label("Attachments").set_input_files(
        files(tmp_path, ("one.txt", b"first file"), ("two.pdf", b"%PDF-1.4 second"))
    )
    page.get_by_role("button", name="Submit").click()

    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name="You did not enter a subject")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Remove one.txt")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Remove two.pdf")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Gwen Guest")
    assert blocking_violations(page) == []
    assert tickets() == []

    page.get_by_label("Subject").fill("Now with a subject")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()
    [ticket] = tickets()
    assert ticket.subject == "Now with a subject"
    assert sorted(a.original_name for a in ticket.attachments) == ["one.txt", "two.pdf"]


def test_files_the_portal_refuses_are_caught_before_upload(new_context, make, tmp_path):
    make.department()
    page = new_context().new_page()
    page.goto("/submitticket")

    page.get_by_label("Attachments").set_input_files(
        files(tmp_path, ("fine.txt", b"ok"), ("tool.exe", b"MZ"))
    )

    expect(page.get_by_text("The file tool.exe is not allowed")).to_be_visible()
    expect(page.get_by_role("list", name="Files chosen").get_by_role("listitem")).to_have_text(
        [re.compile(r"^fine\.txt")]
    )


def test_a_logged_in_client_with_a_related_service(new_context, make):
    account = make.client_account()
    make.service(account, product_name="VPS", domain="box.example.com")
    department = make.department(name="Support")
    make.department(name="Sales")
    page = new_context().new_page()

    log_in(page, account.owner)
    page.goto(f"/submitticket?deptid={department.id}")
    expect(page.get_by_label("Name", exact=True)).to_have_value(account.owner.name)
    expect(page.get_by_label("Name", exact=True)).not_to_be_editable()
    expect(page.get_by_label("Email", exact=True)).to_have_value(account.owner.email)
    page.get_by_label("Subject").fill("Slow server")
    page.get_by_label("Related service").select_option(label="VPS - box.example.com")
    page.get_by_label("Priority").select_option("High")
    page.get_by_label("Message").fill("It is slow since Monday.")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()
    [ticket] = tickets()
    assert (ticket.client_id, ticket.user_id) == (account.id, account.owner.id)
    assert ticket.service.label == "VPS - box.example.com"
    assert ticket.priority == "High"

    page.get_by_role("link", name="My tickets").click()
    expect(page.get_by_role("link", name=f"#{ticket.tid}")).to_be_visible()


def test_a_client_with_two_accounts_opens_a_ticket_for_the_chosen_one(new_context, make):
    first = make.client_account(company_name="First Ltd")
    user = first.owner
    second = make.client_account(company_name="Second Ltd")
    make.member(second, user)
    make.department(name="Support")
    page = new_context().new_page()

    log_in(page, user)
    expect(page.get_by_role("heading", name="Choose an account")).to_be_visible()
    page.get_by_label("Second Ltd").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Open a ticket").first.click()
    expect(page.get_by_text("For the account")).to_contain_text("Second Ltd")
    page.get_by_label("Subject").fill("For the second account")
    page.get_by_label("Message").fill("Hello")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()
    [ticket] = tickets()
    assert (ticket.client_id, ticket.user_id) == (second.id, user.id)


def test_changing_department_swaps_the_custom_fields_and_keeps_the_text(new_context, make):
    sales = make.department(name="Sales")
    support = make.department(name="Support")
    make.custom_field(sales, name="Budget")
    make.custom_field(support, name="Server name", required=True)
    page = new_context().new_page()
    page.goto(f"/submitticket?deptid={sales.id}")

    page.get_by_label("Subject").fill("Typed before switching")
    page.get_by_label("Budget").fill("1000")
    page.get_by_label("Department").select_option(label="Support")

    expect(page.get_by_label("Server name")).to_be_visible()
    expect(page.get_by_label("Budget")).to_have_count(0)
    expect(page.get_by_label("Subject")).to_have_value("Typed before switching")
    page.get_by_label("Department").select_option(label="Sales")
    expect(page.get_by_label("Budget")).to_have_value("1000")


def _ticket_with_attachment(app, department, **fields):
    request = OpenTicketRequest(
        deptid=department.id,
        name="Gwen Guest",
        email="gwen@example.com",
        subject="Broken invoice",
        message="See the **attached** report.",
        markdown=True,
        uploads=[IncomingFile.from_bytes("report.txt", b"the report\n")],
        **fields,
    )
    opened = open_ticket(db.session, request, TicketSettings.from_config(app.config))
    db.session.commit()
    return opened


def test_the_view_a_download_and_closing(new_context, make, app):
    ticket = _ticket_with_attachment(app, make.department(name="Billing"))
    page = new_context(accept_downloads=True).new_page()

    page.goto(f"/viewticket.php?tid={ticket.tid}&c={ticket.access_code}")
    expect(page.get_by_role("heading", name=f"View Ticket #{ticket.tid}")).to_be_visible()
    expect(page.get_by_role("heading", name="Broken invoice")).to_be_visible()
    expect(page.get_by_text("Billing")).to_be_visible()
    assert blocking_violations(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name="report.txt").click()
    download = download_info.value
    assert download.suggested_filename == "report.txt"
    assert download.path().read_bytes() == b"the report\n"

    page.get_by_role("link", name="Close ticket").click()
    expect(page.get_by_role("heading", name=f"Close Ticket #{ticket.tid}")).to_be_visible()
    assert blocking_violations(page) == []
    page.get_by_role("button", name="Close ticket").click()

    expect(page.get_by_text("This ticket is closed.")).to_be_visible()
    expect(page.get_by_role("link", name="Close ticket")).to_have_count(0)
    assert tickets()[0].status == TicketStatus.CLOSED


def test_a_ticket_that_prevents_closure_has_no_close_button(new_context, make, app):
    ticket = _ticket_with_attachment(app, make.department(prevent_client_closure=True))
    page = new_context().new_page()

    page.goto(f"/viewticket?tid={ticket.tid}&c={ticket.access_code}")

    expect(page.get_by_role("heading", name=f"View Ticket #{ticket.tid}")).to_be_visible()
    expect(page.get_by_role("link", name="Close ticket")).to_have_count(0)


def test_a_wrong_code_shows_the_not_found_page(new_context, make, app):
    ticket = _ticket_with_attachment(app, make.department())
    page = new_context().new_page()

    response = page.goto(f"/viewticket?tid={ticket.tid}&c=WRONG123")

    assert response.status == 404
    expect(page.get_by_text("The requested ticket could not be found.")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_enter_in_the_subject_submits_the_form(new_context, make, javascript):
    make.department(name="Sales")
    page = new_context(java_script_enabled=javascript).new_page()

    page.goto("/submitticket")
    fill_guest_form(page, subject="Sent with Enter")
    page.get_by_label("Subject").press("Enter")

    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()
    [ticket] = tickets()
    assert ticket.subject == "Sent with Enter"


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_whole_flow_with_javascript_disabled(new_context, make, tmp_path, viewport):
    sales = make.department(name="Sales")
    support = make.department(name="Support")
    make.custom_field(sales, name="Budget")
    make.custom_field(support, name="Server name", required=True)
    options = {"java_script_enabled": False} | ({"viewport": viewport} if viewport else {})
    page = new_context(**options).new_page()

    page.goto("/submitticket")
    page.get_by_role("link", name="Sales").click()
    fill_guest_form(page, subject="Without JavaScript")
    page.get_by_label("Department").select_option(label="Support")
    page.get_by_role("button", name="Change department").click()
    expect(page.get_by_label("Server name")).to_be_visible()
    expect(page.get_by_label("Subject")).to_have_value("Without JavaScript")
    page.get_by_role("button", name="Show preview").click()
    expect(page.get_by_role("region", name="Preview").get_by_role("link")).to_have_text("the docs")
    page.get_by_label("Attachments").set_input_files(
        files(tmp_path, ("a.txt", b"a"), ("b.txt", b"b"))
    )
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("link", name="Server name is required")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Remove a.txt")).to_be_visible()
    if viewport:
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.get_by_label("Server name").fill("web-01")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name=re.compile(r"^Ticket Created #"))).to_be_visible()
    [ticket] = tickets()
    assert ticket.department.name == "Support"
    assert sorted(a.original_name for a in ticket.attachments) == ["a.txt", "b.txt"]
    assert [v.value for v in ticket.custom_field_values] == ["web-01"]
    page.get_by_role("link", name=f"View ticket #{ticket.tid}").click()
    page.get_by_role("link", name="Close ticket").click()
    page.get_by_role("button", name="Close ticket").click()
    expect(page.get_by_text("This ticket is closed.")).to_be_visible()
