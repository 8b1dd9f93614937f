"""The XSS corpus in the rendered HTML: no script, no event handler, no javascript: link."""

import pytest

from portal.rendering import render_message
from tests.security.xss import (
    PAYLOADS,
    carrier_department,
    email_html_parts,
    payload_ticket,
    problems_in,
)


def test_the_corpus_is_loaded():
    assert len(PAYLOADS) >= 40
    # Each sets the marker the browser tests look for, some behind entities or base64.
    assert all("__xss" in p or "msgbox(" in p or "base64" in p for p in PAYLOADS)


def test_the_inspector_sees_what_would_run():
    assert problems_in('<a href="jav&#x09;ascript:alert(1)">x</a>', fragment=True)
    assert problems_in("<p onclick=alert(1)>x</p>", fragment=True)
    assert problems_in("<script>alert(1)</script>", fragment=False)
    assert problems_in('<script src="/static/js/compose.js"></script>', fragment=False) == []
    assert (
        problems_in('<a href="/viewticket?tid=1">x</a> <a href="https://e.x">y</a>', fragment=True)
        == []
    )


@pytest.mark.parametrize("markdown", [True, False], ids=["markdown", "plain"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_rendered_message_carries_nothing_that_runs(payload, markdown):
    assert problems_in(str(render_message(payload, markdown)), fragment=True) == []


def test_the_preview_carries_nothing_that_runs(client):
    problems = {}
    for payload in PAYLOADS:
        response = client.post("/markdown-preview", data={"message": payload})
        assert response.status_code == 200
        if found := problems_in(response.text, fragment=True):
            problems[payload] = found

    assert problems == {}


def test_the_ticket_pages_and_emails_carry_nothing_that_runs(
    app, client, staff_client, make, settings
):
    department = carrier_department(make)
    problems = {}
    for payload in PAYLOADS:
        for markdown in (True, False):
            ticket = payload_ticket(department, settings, payload, markdown=markdown)
            pages = {
                "client view": client.get(f"/viewticket?tid={ticket.tid}&c={ticket.access_code}"),
                "staff view": staff_client.get(f"/staff/tickets/{ticket.tid}"),
                "staff list": staff_client.get("/staff/"),
            }
            for where, page in pages.items():
                assert page.status_code == 200, where
                if found := problems_in(page.text, fragment=False):
                    problems[(payload, markdown, where)] = found
            emails = email_html_parts(ticket)
            assert len(emails) == 2
            for html in emails:
                if found := problems_in(html, fragment=False):
                    problems[(payload, markdown, "email")] = found

    assert problems == {}


@pytest.mark.parametrize(
    ("markdown", "label"),
    [
        ('![Tom & Jerry <3 "cats"](https://example.com/cat.png)', 'Tom &amp; Jerry &lt;3 "cats"'),
        ("![](https://example.com/a.png?x=1&y=2)", "https://example.com/a.png?x=1&amp;y=2"),
        ("![*bold* claim](https://example.com/b.png)", "bold claim"),
    ],
)
def test_an_image_becomes_a_link_labelled_with_its_alt_text_escaped_once(markdown, label):
    html = str(render_message(markdown, True))

    assert f">{label}</a>" in html
    assert "&amp;amp;" not in html and "&amp;lt;" not in html
