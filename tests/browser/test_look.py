"""How the portal looks, in Chromium: the operator's brand, phones and desktops, light and dark.

Every page is visited as a person gets there (links, labels, buttons) at 1280 and 390 px in
both colour schemes; each must fit the width, show SITE_NAME in its header and pass axe.
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from portal.branding import contrast
from portal.extensions import db
from portal.models import OutboxMessage, OutboxStatus, TicketStatus, utcnow
from portal.tickets import OpenTicketRequest, TicketSettings, open_ticket
from tests.factories import PASSWORD

SITE_NAME = "Acme Hosting Help"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
SCHEMES = ("light", "dark")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SITE_NAME": SITE_NAME, "ACCENT_COLOR": "#c2410c"}


def blocking_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def context_for(new_context, size: str, scheme: str, **options):
    phone = size == "phone"
    return new_context(
        viewport=SIZES[size], color_scheme=scheme, is_mobile=phone, has_touch=phone, **options
    )


def open_client_ticket(app, account, department, subject, status=TicketStatus.OPEN):
    request = OpenTicketRequest(
        deptid=department.id, clientid=account.id, subject=subject, message="Hello **there**."
    )
    ticket = open_ticket(db.session, request, TicketSettings.from_config(app.config))
    ticket.status = status.value
    db.session.commit()
    return ticket


def open_guest_ticket(app, department, subject="A guest's question"):
    request = OpenTicketRequest(
        deptid=department.id,
        name="Gwen Guest",
        email="gwen@example.com",
        subject=subject,
        message="Where is the **pricing** page?",
        markdown=True,
    )
    ticket = open_ticket(db.session, request, TicketSettings.from_config(app.config))
    db.session.commit()
    return ticket


def a_failed_email(ticket):
    db.session.add(
        OutboxMessage(
            ticket=ticket,
            kind="ticket_opened",
            recipients=ticket.email,
            status=OutboxStatus.FAILED,
            attempts=7,
            last_error="550 5.1.1 Recipient address rejected: user unknown in virtual table",
            created_at=utcnow(),
            next_attempt_at=utcnow(),
        )
    )
    db.session.commit()


def log_in(page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


class Checker:
    """Checks each page it is shown and collects what is wrong, to report all at once."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []

    def __call__(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll > client:
            self.problems.append(f"{name}: scrolls sideways ({scroll} > {client})")
        if SITE_NAME not in (page.get_by_role("banner").text_content() or ""):
            self.problems.append(f"{name}: no {SITE_NAME!r} in the header")
        if not page.title().endswith(SITE_NAME):
            self.problems.append(f"{name}: title {page.title()!r}")
        self.problems += [f"{name}: {v}" for v in blocking_violations(page)]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_fits_shows_the_brand_and_passes_axe(
    app, live_server, new_context, make, size, scheme
):
    app.config["BASE_URL"] = live_server
    support = make.department(name="Support", description="Servers, email and websites.")
    make.department(name="Sales", description="Before you buy.")
    account = make.client_account(company_name="Widgets Ltd")
    make.service(account, product_name="VPS", domain="vps.widgets.example")
    open_client_ticket(app, account, support, "Backups are slow", TicketStatus.ANSWERED)
    client_ticket = open_client_ticket(app, account, support, "The server is down")
    open_client_ticket(app, account, support, "An old question", TicketStatus.CLOSED)
    a_failed_email(open_guest_ticket(app, support))
    member = make.staff()

    page = context_for(new_context, size, scheme).new_page()
    check = Checker(page)
    page.goto("/")
    check("home")
    if size == "phone":
        page.get_by_text("Menu", exact=True).click()
        check("menu open")
    page.get_by_role("link", name="Open a ticket").first.click()
    page.get_by_role("link", name="Support").click()
    check("compose")
    page.get_by_label("Name", exact=True).fill("Gwen Guest")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    check("compose with errors")
    page.get_by_label("Email", exact=True).fill("gwen@example.com")
    page.get_by_label("Subject").fill("A long subject that goes on and on about a broken invoice")
    page.get_by_label("Message").fill("It **broke**.")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name=re.compile("^Ticket Created"))).to_be_visible()
    check("ticket created")
    page.get_by_role("link", name=re.compile("^View ticket")).click()
    check("view ticket")
    page.get_by_role("link", name="Close ticket").click()
    check("close ticket")
    page.goto("/viewticket?tid=NOPE-000000&c=wrong")
    check("ticket not found")
    page.goto("/no-such-page")
    check("error page")

    log_in(page, account.owner.email)
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    check("client home")
    page.goto("/tickets?status=all")
    expect(page.get_by_role("link", name=f"#{client_ticket.tid}")).to_be_visible()
    check("my tickets")
    page.goto(f"/submitticket?deptid={support.id}")
    check("compose, signed in")
    page.goto(f"/viewticket?tid={client_ticket.tid}&c={client_ticket.access_code}")
    check("view ticket, signed in")

    page.goto("/staff/login")
    check("staff sign in")
    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    check("staff tickets")
    page.goto(f"/staff/tickets/{client_ticket.tid}")
    check("staff ticket")
    page.goto("/staff/tickets/new")
    check("staff open new ticket")
    page.goto("/staff/mail/failed")
    check("staff failed email")

    assert check.problems == []


def border_colour(locator) -> str:
    return locator.evaluate("element => getComputedStyle(element).borderTopColor")


def style_of(locator, *properties: str) -> dict:
    return locator.evaluate(
        "(element, names) => Object.fromEntries("
        "names.map(name => [name, getComputedStyle(element).getPropertyValue(name)]))",
        list(properties),
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_an_invalid_field_has_a_red_border_and_label(new_context, make, scheme):
    make.department(name="Support")
    page = context_for(new_context, "desktop", scheme).new_page()
    page.goto("/submitticket")
    page.get_by_label("Name", exact=True).fill("Gwen Guest")
    page.get_by_label("Email", exact=True).fill("gwen@example.com")
    page.get_by_role("button", name="Submit").click()

    subject = page.get_by_label("Subject")
    expect(subject).to_have_attribute("aria-invalid", "true")
    expect(subject).to_have_accessible_description(re.compile("You did not enter a subject"))
    name = page.get_by_label("Name", exact=True)
    assert border_colour(subject) != border_colour(name)
    subject_label = page.locator("label", has_text="Subject")
    name_label = page.locator("label", has_text="Name")
    assert style_of(subject_label, "color") != style_of(name_label, "color")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_signed_in_clients_name_and_email_look_read_only(new_context, make, scheme):
    department = make.department(name="Support")
    account = make.client_account()
    page = context_for(new_context, "desktop", scheme).new_page()
    log_in(page, account.owner.email)
    page.goto(f"/submitticket?deptid={department.id}")

    name = page.get_by_label("Name", exact=True)
    expect(name).not_to_be_editable()
    looks = ("background-color", "border-top-style", "color")
    assert style_of(name, *looks) != style_of(page.get_by_label("Subject"), *looks)
    assert style_of(page.get_by_label("Email", exact=True), *looks) == style_of(name, *looks)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_statuses_and_priorities_are_badges_in_words_and_colour(app, new_context, make, scheme):
    department = make.department(name="Support")
    account = make.client_account()
    for status in TicketStatus:
        open_client_ticket(app, account, department, f"A ticket {status.value}", status)
    page = context_for(new_context, "desktop", scheme).new_page()
    log_in(page, account.owner.email)
    page.goto("/tickets?status=all")

    badges = page.get_by_role("table").locator(".status")
    expect(badges).to_have_count(len(TicketStatus))
    colours = {}
    for status in TicketStatus:
        badge = badges.filter(has_text=re.compile(f"^{status.value}$"))
        expect(badge).to_be_visible()
        colours[status] = style_of(badge, "background-color", "color")
    assert colours[TicketStatus.OPEN] != colours[TicketStatus.CLOSED]
    # Each of the six looks different.
    assert len({tuple(c.values()) for c in colours.values()}) == len(TicketStatus)

    page.get_by_role("link", name=re.compile("^#")).first.click()
    priority = page.locator(".priority")
    expect(priority).to_have_text("Low")
    assert style_of(priority, "background-color") != style_of(
        page.locator("main"), "background-color"
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_focus_outline_stands_out_from_the_page(new_context, make, scheme):
    make.department(name="Support")
    page = context_for(new_context, "desktop", scheme).new_page()
    page.goto("/submitticket")
    page.get_by_label("Name", exact=True).focus()
    page.keyboard.press("Tab")

    focused = page.get_by_label("Email", exact=True)
    expect(focused).to_be_focused()
    outline = style_of(focused, "outline-color", "outline-style", "outline-width")
    assert outline["outline-style"] == "solid" and outline["outline-width"] == "3px"
    ground = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert contrast(rgb(outline["outline-color"]), rgb(ground)) >= 3


def rgb(css: str) -> tuple[int, int, int]:
    red, green, blue = (int(float(n)) for n in re.findall(r"[\d.]+", css)[:3])
    return (red, green, blue)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_the_header_folds_into_a_menu_on_phones(new_context, make, javascript):
    account = make.client_account()
    phone = context_for(new_context, "phone", "light", java_script_enabled=javascript).new_page()
    log_in(phone, account.owner.email)

    my_tickets = phone.get_by_role("link", name="My tickets")
    expect(my_tickets).to_be_hidden()
    header_height = phone.get_by_role("banner").bounding_box()["height"]
    assert header_height < 100
    phone.get_by_text("Menu", exact=True).click()
    expect(my_tickets).to_be_visible()
    assert my_tickets.bounding_box()["height"] >= 44
    my_tickets.click()
    expect(phone.get_by_role("heading", name="My tickets")).to_be_visible()

    desktop = context_for(new_context, "desktop", "light", java_script_enabled=javascript)
    page = desktop.new_page()
    log_in(page, account.owner.email)
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    expect(page.get_by_role("link", name="My tickets")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()


def test_ticket_numbers_do_not_wrap_in_lists(app, new_context, make):
    department = make.department(name="Support")
    account = make.client_account()
    ticket = open_client_ticket(app, account, department, "Word " * 40)
    page = context_for(new_context, "desktop", "light").new_page()
    log_in(page, account.owner.email)
    page.goto("/tickets")

    number = page.get_by_role("link", name=f"#{ticket.tid}")
    line_height = float(style_of(number, "line-height")["line-height"].removesuffix("px"))
    assert number.bounding_box()["height"] < 1.5 * line_height


def test_chosen_files_add_up_and_each_can_be_removed(new_context, make, tmp_path):
    make.department(name="Support")
    page = context_for(new_context, "desktop", "light").new_page()
    page.goto("/submitticket")
    expect(page.get_by_text("or drop files here")).to_be_visible()
    paths = []
    for name in ("one.txt", "two.txt", "three.txt"):
        paths.append(tmp_path / name)
        paths[-1].write_text(name)

    attachments = page.get_by_label("Attachments")
    attachments.set_input_files(paths[:2])
    attachments.set_input_files(paths[2:])
    chosen = page.get_by_role("list", name="Files chosen").get_by_role("listitem")
    expect(chosen).to_have_text([re.compile(f"^{n}") for n in ("one.txt", "two.txt", "three.txt")])
    page.get_by_role("button", name="Remove two.txt").click()
    expect(chosen).to_have_text([re.compile("^one.txt"), re.compile("^three.txt")])
    assert attachments.evaluate("input => Array.from(input.files, f => f.name)") == [
        "one.txt",
        "three.txt",
    ]


def test_a_touch_screen_is_not_offered_dropping(new_context, make):
    make.department(name="Support")
    page = context_for(new_context, "phone", "light").new_page()
    page.goto("/submitticket")
    expect(page.get_by_label("Attachments")).to_be_visible()
    expect(page.get_by_text("or drop files here")).to_be_hidden()


def test_the_confirmation_copies_the_code_and_says_where_the_email_went(new_context, make):
    make.department(name="Support")
    context = context_for(new_context, "desktop", "light")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto("/submitticket")
    page.get_by_label("Name", exact=True).fill("Gwen Guest")
    page.get_by_label("Email", exact=True).fill("gwen@example.com")
    page.get_by_label("Subject").fill("Copy me")
    page.get_by_label("Message").fill("Hello")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_text("is on its way to gwen@example.com")).to_be_visible()
    code = page.locator("#access-code").text_content()
    page.get_by_role("button", name="Copy access code").click()
    expect(page.get_by_role("status")).to_have_text("Access code copied.")
    assert page.evaluate("navigator.clipboard.readText()") == code

    stranger = context_for(new_context, "desktop", "light").new_page()
    stranger.goto(page.url)
    expect(stranger.get_by_text("gwen@example.com")).to_have_count(0)
    expect(stranger.get_by_role("heading", name="Open a ticket")).to_be_visible()


def test_a_client_lands_on_what_awaits_them(app, new_context, make):
    department = make.department(name="Support")
    account = make.client_account()
    open_client_ticket(app, account, department, "We answered this", TicketStatus.ANSWERED)
    open_client_ticket(app, account, department, "We are on it", TicketStatus.IN_PROGRESS)
    open_client_ticket(app, account, department, "Long done", TicketStatus.CLOSED)
    page = context_for(new_context, "phone", "light").new_page()
    log_in(page, account.owner.email)

    awaiting = page.get_by_role("list", name="Tickets awaiting your reply")
    expect(awaiting.get_by_role("listitem")).to_have_count(1)
    expect(awaiting).to_contain_text("We answered this")
    still_open = page.get_by_role("list", name="Your open tickets")
    expect(still_open.get_by_role("listitem")).to_have_count(1)
    expect(still_open).to_contain_text("We are on it")
    expect(page.get_by_text("Long done")).to_have_count(0)
    page.get_by_role("link", name="Open a ticket").first.click()
    expect(page.get_by_role("heading", name="Open a ticket")).to_be_visible()
