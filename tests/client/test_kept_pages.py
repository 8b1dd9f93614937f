"""A guest's blank form, confirmation and ticket view come from pages the worker keeps.

Each page a guest gets is the page a render gives; only the renders are fewer.
"""

import importlib
import re

import pytest
from flask import template_rendered
from sqlalchemy import func, select

from portal.client.kept_pages import CutPage, kept_page
from portal.client.submission import ALREADY_SENT, render_confirmation
from portal.client.ticket_pages import render_view_page
from portal.extensions import db
from portal.models import Ticket, TicketStatus
from portal.ticket_facts import ticket_facts
from portal.tickets.closing import client_may_close
from tests.factories import PASSWORD
from tests.pages import hidden_fields

HIDDEN = ("csrf_token", "draft", "shown")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def renders(app):
    """The names of the templates rendered since the test began."""
    rendered = []

    def note(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(note, app)
    yield rendered
    template_rendered.disconnect(note, app)


def without_hidden_values(page: str) -> str:
    fields = hidden_fields(page)
    for name in HIDDEN:
        page = page.replace(f'name="{name}" value="{fields[name]}"', f'name="{name}" value=""')
    return page


def test_the_second_guest_gets_the_first_page_with_their_own_hidden_values(app, make, renders):
    department = make.department()
    first = app.test_client().get(f"/submitticket?deptid={department.id}").text
    second = app.test_client().get(f"/submitticket?deptid={department.id}").text

    assert renders.count("client/compose.html") == 1
    assert without_hidden_values(second) == without_hidden_values(first)
    first_values, second_values = hidden_fields(first), hidden_fields(second)
    assert all(first_values[name] != second_values[name] for name in HIDDEN)


def test_each_guest_sends_their_own_form_and_not_anothers(app, make):
    department = make.department()
    guests = [app.test_client(), app.test_client()]
    pages = [guest.get(f"/submitticket?deptid={department.id}").text for guest in guests]
    fields = {
        "deptid": department.id,
        "name": "Gwen Guest",
        "email": "gwen@example.com",
        "subject": "Cannot log in",
        "message": "Since this morning.",
        "action": "submit",
    }

    crossed = guests[1].post("/submitticket", data={**hidden_fields(pages[0]), **fields})
    own = guests[1].post("/submitticket", data={**hidden_fields(pages[1]), **fields})

    assert crossed.status_code == 400
    assert own.status_code == 303
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


class Clock:
    """Stands in for time.monotonic where the form's departments are remembered."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    # By module: the name portal.client is the blueprint's once the app package is imported.
    monkeypatch.setattr(importlib.import_module("portal.client.recent_departments"), "time", clock)
    return clock


def change_the_departments(make, department, change: str) -> str:
    """Make an operator's change; returns the text that shows it on the form."""
    if change == "rename the department":
        department.name = "Sales and billing"
        shown = "Sales and billing"
    elif change == "add a custom field":
        make.custom_field(department, name="Order number")
        shown = "Order number"
    else:
        make.department(name="Abuse desk")
        shown = "Abuse desk"
    db.session.commit()
    return shown


CHANGES = ["rename the department", "add a custom field", "list another department"]


@pytest.mark.parametrize("change", CHANGES)
def test_an_operators_change_shows_once_the_departments_read_are_a_second_old(
    app, client, make, clock, change
):
    department = make.department(name="Sales")
    client.get(f"/submitticket?deptid={department.id}")
    shown = change_the_departments(make, department, change)

    clock.now += 0.5
    before = client.get(f"/submitticket?deptid={department.id}").text
    clock.now += app.config["FORM_DEPARTMENTS_MAX_AGE"]
    after = client.get(f"/submitticket?deptid={department.id}").text

    assert shown not in before
    assert shown in after


@pytest.mark.parametrize("change", CHANGES)
def test_with_no_max_age_an_operators_change_shows_on_the_next_get(app, client, make, change):
    app.config["FORM_DEPARTMENTS_MAX_AGE"] = 0
    department = make.department(name="Sales")
    client.get(f"/submitticket?deptid={department.id}")
    shown = change_the_departments(make, department, change)

    assert shown in client.get(f"/submitticket?deptid={department.id}").text


def test_sending_a_form_checks_the_department_as_it_is_now(client, make, clock):
    department = make.department(name="Sales")
    page = client.get(f"/submitticket?deptid={department.id}").text
    department.clients_only = True
    db.session.commit()

    fields = {**hidden_fields(page), **GUEST_FIELDS, "deptid": department.id}
    refused = client.post("/submitticket", data=fields)

    assert refused.status_code == 422
    assert "Log in to contact this department" in refused.text
    assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_each_department_has_its_own_page(client, make):
    sales = make.department(name="Sales")
    support = make.department(name="Support")
    make.custom_field(support, name="Server name")

    sales_page = client.get(f"/submitticket?deptid={sales.id}").text
    support_page = client.get(f"/submitticket?deptid={support.id}").text

    assert re.search(rf'<option value="{sales.id}" selected>Sales<', sales_page)
    assert re.search(rf'<option value="{support.id}" selected>Support<', support_page)
    assert "Server name" in support_page and "Server name" not in sales_page


def test_a_message_waiting_for_the_guest_is_shown_once(client, make):
    department = make.department()
    client.get(f"/submitticket?deptid={department.id}")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Your session ended; the form is empty again.")]

    with_message = client.get(f"/submitticket?deptid={department.id}").text
    after = client.get(f"/submitticket?deptid={department.id}").text

    assert "Your session ended" in with_message
    assert "Your session ended" not in after


def test_each_mount_point_has_its_own_links(client, make):
    department = make.department()
    url = f"/submitticket?deptid={department.id}"

    at_root = client.get(url).text
    mounted = client.get(url, environ_overrides={"SCRIPT_NAME": "/support"}).text

    assert 'action="/submitticket"' in at_root
    assert 'action="/support/submitticket"' in mounted
    assert 'action="/submitticket"' not in mounted


def test_a_worker_that_reloads_templates_renders_every_time(app, client, make, renders):
    app.jinja_env.auto_reload = True
    department = make.department()

    client.get(f"/submitticket?deptid={department.id}")
    client.get(f"/submitticket?deptid={department.id}")

    assert renders.count("client/compose.html") == 2


GUEST_FIELDS = {
    "name": "Gwen Guest",
    "email": "gwen@example.com",
    "subject": "Cannot log in",
    "message": "Since this morning.",
    "action": "submit",
}


def send_form(client, department, **environ) -> str:
    """Where the form, shown and sent once, redirects: the confirmation's URL."""
    page = client.get(f"/submitticket?deptid={department.id}", **environ).text
    fields = {**hidden_fields(page), **GUEST_FIELDS, "deptid": department.id}
    sent = client.post("/submitticket", data=fields, **environ)
    assert sent.status_code == 303, sent.text
    return sent.location


def guest_confirmation(app, department) -> str:
    """The confirmation a new guest lands on after sending the form."""
    guest = app.test_client()
    page = guest.get(send_form(guest, department))
    assert page.status_code == 200
    return page.text


def rendered_confirmation(app, ticket: Ticket) -> str:
    """The guest's confirmation of this ticket as the template renders it, never kept."""
    with app.test_request_context():
        return render_confirmation({"tid": ticket.tid, "code": ticket.access_code})


def tickets() -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def test_each_guests_confirmation_is_the_page_a_render_gives(app, make, renders):
    department = make.department()

    pages = [guest_confirmation(app, department) for _ in range(3)]

    assert pages == [rendered_confirmation(app, ticket) for ticket in tickets()]
    assert len(set(pages)) == 3
    # One render served the three pages; the other three are this test's, to compare with.
    assert renders.count("client/ticket_created.html") == 1 + 3


def test_a_ticket_number_that_quoting_changes_is_linked_as_a_render_links_it(app, make):
    app.config["TICKET_MASK"] = "#%n%n%n%n%n%n"
    department = make.department()

    pages = [guest_confirmation(app, department) for _ in range(2)]

    assert pages == [rendered_confirmation(app, ticket) for ticket in tickets()]
    assert all("/viewticket?tid=%23" in page for page in pages)


def test_a_form_sent_twice_says_so_on_the_kept_confirmation(app, client, make):
    department = make.department()
    guest_confirmation(app, department)  # a guest's confirmation is kept from here on
    page = client.get(f"/submitticket?deptid={department.id}").text
    fields = {**hidden_fields(page), **GUEST_FIELDS, "deptid": department.id}
    client.post("/submitticket", data=fields)

    again = client.post("/submitticket", data=fields)
    with_message = client.get(again.location).text
    after = client.get(again.location).text

    assert ALREADY_SENT in with_message
    assert ALREADY_SENT not in after


def sign_in(client, user) -> None:
    """Through the login form, CSRF token and all."""
    login_page = client.get("/login").text
    signed_in = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, **hidden_fields(login_page)},
    )
    assert signed_in.status_code == 303


def test_a_signed_in_client_gets_a_confirmation_of_their_own(app, client, make):
    department = make.department()
    guest_confirmation(app, department)  # a guest's confirmation is kept from here on
    user = make.user(first_name="Carla", last_name="Client")
    make.client_account(owner=user)
    sign_in(client, user)

    page = client.get(send_form(client, department)).text

    assert "Signed in as Carla Client" in page


def test_each_mount_point_has_its_own_confirmation_links(client, make):
    department = make.department()
    mounted = {"environ_overrides": {"SCRIPT_NAME": "/support"}}

    at_root = client.get(send_form(client, department)).text
    location = send_form(client, department, **mounted)
    at_support = client.get(location.removeprefix("/support"), **mounted).text

    assert 'href="/viewticket?tid=' in at_root
    assert 'href="/support/viewticket?tid=' in at_support
    assert 'href="/viewticket?tid=' not in at_support


def view(client, ticket: Ticket) -> str:
    page = client.get("/viewticket", query_string={"tid": ticket.tid, "c": ticket.access_code})
    assert page.status_code == 200
    return page.text


def rendered_view(app, ticket: Ticket) -> str:
    """A guest's view of this ticket as the template renders it, never kept."""
    with app.test_request_context():
        facts = ticket_facts(ticket)
        return render_view_page(facts, [], client_may_close(ticket), ticket.access_code)


def test_each_guests_view_is_the_page_a_render_gives(app, client, make, open_ticket_now, renders):
    department = make.department(name="Sales & <Billing>")
    opened = [
        open_ticket_now(department, subject='<script>alert("x")</script>', priority="High"),
        open_ticket_now(department, message="Line one\nLine <two> & three", markdown=False),
        open_ticket_now(
            department, message="A [link](https://example.com) and **bold**.", markdown=True
        ),
    ]

    pages = [view(client, ticket) for ticket in opened]

    assert pages == [rendered_view(app, ticket) for ticket in opened]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in pages[0]
    assert "Line <two>" not in pages[1] and "Line &lt;two&gt; &amp; three" in pages[1]
    assert "<strong>bold</strong>" in pages[2]
    # One render served the three pages; the other three are this test's, to compare with.
    assert renders.count("client/view_ticket.html") == 1 + 3


def test_closed_and_unclosable_tickets_have_pages_of_their_own(app, client, make, open_ticket_now):
    department = make.department()
    open_one, closed = open_ticket_now(department), open_ticket_now(department)
    unclosable = open_ticket_now(make.department(prevent_client_closure=True))
    closed.status = TicketStatus.CLOSED
    db.session.commit()

    pages = [view(client, ticket) for ticket in (open_one, closed, unclosable)]

    assert pages == [rendered_view(app, ticket) for ticket in (open_one, closed, unclosable)]
    assert "Close ticket" in pages[0]
    assert "This ticket is closed." in pages[1] and "Close ticket" not in pages[1]
    assert "This ticket is closed." not in pages[2] and "Close ticket" not in pages[2]


def test_a_ticket_number_that_quoting_changes_is_viewed_as_a_render_shows_it(
    app, client, make, open_ticket_now
):
    app.config["TICKET_MASK"] = "#%n%n%n%n%n%n"
    department = make.department()
    opened = [open_ticket_now(department) for _ in range(2)]

    pages = [view(client, ticket) for ticket in opened]

    assert pages == [rendered_view(app, ticket) for ticket in opened]
    assert all("/viewticket/close?tid=%23" in page for page in pages)


def test_attachments_and_custom_fields_show_beside_kept_views(app, client, make, open_ticket_now):
    department = make.department()
    rating = make.custom_field(department, name="Server name")
    view(client, open_ticket_now(department))  # a guest's view is kept from here on

    with_file = view(client, open_ticket_now(department, files=[("report.txt", b"the report")]))
    with_field = view(client, open_ticket_now(department, customfields={rating.id: "web-01"}))

    assert "report.txt" in with_file and "/viewticket/attachment/" in with_file
    assert "Server name" in with_field and "web-01" in with_field


def test_a_signed_in_viewer_gets_a_view_of_their_own(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department())
    view(client, ticket)  # a guest's view is kept from here on
    sign_in(client, make.user(first_name="Carla", last_name="Client"))

    assert "Signed in as Carla Client" in view(client, ticket)


def test_a_message_waiting_for_the_viewer_is_shown_once(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department())
    view(client, ticket)
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "The ticket is closed.")]

    assert "The ticket is closed." in view(client, ticket)
    assert "The ticket is closed." not in view(client, ticket)


def test_a_value_not_named_private_may_also_be_in_the_fixed_text(app):
    calls = []

    def render(shown):
        calls.append(shown)
        return f'<a>Open a ticket</a><p>{shown["status"]}</p><input value="{shown["code"]}">'

    with app.test_request_context():
        pages = [
            kept_page("view", {"status": "Open", "code": code}, render, private=("code",))
            for code in ("abc123", "def456")
        ]

    assert pages == [
        '<a>Open a ticket</a><p>Open</p><input value="abc123">',
        '<a>Open a ticket</a><p>Open</p><input value="def456">',
    ]
    assert len(calls) == 1  # the stand-ins' render, kept for both


@pytest.mark.parametrize(
    "changed",
    [str.upper, lambda value: value[:10], str.title],
    ids=["upper", "truncated", "title"],
)
def test_a_page_whose_template_changes_a_value_is_not_kept(app, changed):
    def render(shown):
        return f"<h1>{shown['subject']}</h1><title>{changed(shown['subject'])}</title>"

    with app.test_request_context():
        pages = [kept_page("changed", {"subject": s}, render) for s in ("printer", "scanner")]

    assert pages == [
        f"<h1>{subject}</h1><title>{changed(subject)}</title>" for subject in ("printer", "scanner")
    ]


def test_a_value_also_in_the_pages_own_text_is_filled_in_only_where_it_goes(app):
    def render(shown):
        return f"<p>Ticket 1 of {shown['number']}</p>"

    with app.test_request_context():
        pages = [kept_page("count", {"number": n}, render) for n in ("1", "2", "3")]

    assert pages == ["<p>Ticket 1 of 1</p>", "<p>Ticket 1 of 2</p>", "<p>Ticket 1 of 3</p>"]


def test_a_page_showing_a_value_it_was_not_given_is_not_kept(app):
    session_token = {}

    def render(shown):
        # As a template calling csrf_token() itself would: the session's token, not `shown`.
        return f'<input value="{shown["token"]}"><input value="{session_token["now"]}">'

    pages = []
    with app.test_request_context():
        for token in ("a" * 40, "b" * 40):
            session_token["now"] = token
            pages.append(kept_page("form", {"token": token}, render))

    assert pages == [f'<input value="{t}"><input value="{t}">' for t in ("a" * 40, "b" * 40)]


def test_a_page_is_cut_at_each_value_as_the_template_escapes_it():
    page = '<input value="a&amp;b"><p>x</p><input value="c&lt;d"><a title="a&amp;b">'
    cut = CutPage.cut(page, {"one": "a&b", "two": "c<d"})

    assert cut.holes == ("one", "two", "one")
    assert cut.filled({"one": "a&b", "two": "c<d"}) == page
    assert cut.filled({"one": '"e"', "two": "f"}) == (
        '<input value="&#34;e&#34;"><p>x</p><input value="f"><a title="&#34;e&#34;">'
    )


@pytest.mark.parametrize(
    "page",
    [
        '<input value="other">',  # a value not shown at all
        '<a href="?v=a%26b">',  # shown only in another encoding
        '<input value="a&amp;b"><script>"a&b"</script>',  # shown also unescaped
    ],
)
def test_a_page_that_shows_a_value_in_another_form_is_not_cut(page):
    assert CutPage.cut(page, {"one": "a&b"}) is None
