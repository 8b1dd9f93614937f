"""A guest's empty form is cut from a page the worker keeps, and is the page a render gives."""

import re

import pytest
from flask import template_rendered
from sqlalchemy import func, select

from portal.client.blank_form import CutPage
from portal.extensions import db
from portal.models import Ticket
from tests.pages import hidden_fields

HIDDEN = ("csrf_token", "draft", "shown")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def compose_renders(app):
    """The names of the compose pages rendered since the test began."""
    rendered = []

    def note(sender, template, context, **extra):
        if template.name == "client/compose.html":
            rendered.append(template.name)

    template_rendered.connect(note, app)
    yield rendered
    template_rendered.disconnect(note, app)


def without_hidden_values(page: str) -> str:
    fields = hidden_fields(page)
    for name in HIDDEN:
        page = page.replace(f'name="{name}" value="{fields[name]}"', f'name="{name}" value=""')
    return page


def test_the_second_guest_gets_the_first_page_with_their_own_hidden_values(
    app, make, compose_renders
):
    department = make.department()
    first = app.test_client().get(f"/submitticket?deptid={department.id}").text
    second = app.test_client().get(f"/submitticket?deptid={department.id}").text

    assert len(compose_renders) == 1
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


@pytest.mark.parametrize(
    "change",
    ["rename the department", "add a custom field", "list another department"],
)
def test_an_operators_change_shows_on_the_next_get(client, make, change):
    department = make.department(name="Sales")
    client.get(f"/submitticket?deptid={department.id}")

    if change == "rename the department":
        department.name = "Sales and billing"
        expected = "Sales and billing"
    elif change == "add a custom field":
        make.custom_field(department, name="Order number")
        expected = "Order number"
    else:
        make.department(name="Abuse desk")
        expected = "Abuse desk"
    db.session.commit()
    page = client.get(f"/submitticket?deptid={department.id}").text

    assert expected in page


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


def test_a_worker_that_reloads_templates_renders_every_time(app, client, make, compose_renders):
    app.jinja_env.auto_reload = True
    department = make.department()

    client.get(f"/submitticket?deptid={department.id}")
    client.get(f"/submitticket?deptid={department.id}")

    assert len(compose_renders) == 2


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
