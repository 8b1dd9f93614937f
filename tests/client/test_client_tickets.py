"""Viewing, downloading from and closing tickets; My tickets."""

import re
from datetime import datetime
from html import unescape

import pytest
from sqlalchemy import update

from portal.extensions import db
from portal.models import Ticket, TicketStatus
from portal.tickets.access import Decision, ticket_access
from portal.tickets.changes import (
    CLIENT_CLOSURE_PREVENTED,
    NotAllowed,
    close_ticket_as_client,
)


def view_url(ticket, code=None):
    return f"/viewticket?tid={ticket.tid}&c={code or ticket.access_code}"


def test_a_guest_ticket_opens_with_tid_and_code(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department(name="Sales"), markdown=True)

    page = client.get(view_url(ticket))

    assert page.status_code == 200
    assert f'View Ticket #<span class="nowrap">{ticket.tid}</span>' in page.text
    assert "Printer on fire" in page.text and "Sales" in page.text
    assert "<strong>really</strong>" in page.text


def test_the_page_shows_attachments_custom_fields_and_the_service(
    client, make, open_ticket_now, log_in
):
    account = make.client_account()
    department = make.department()
    budget = make.custom_field(department, name="Budget")
    secret = make.custom_field(department, name="Internal rating", admin_only=True)
    service = make.service(account, product_name="Web Hosting", domain="shop.example.com")
    ticket = open_ticket_now(
        department,
        account=account,
        serviceid=service.id,
        customfields={budget.id: "500 EUR", secret.id: "difficult"},
        files=[("report.txt", b"the report")],
    )
    log_in(account.owner)
    url = view_url(ticket)
    # The request must load everything itself, not find it in the test's session.
    db.session.expunge_all()

    page = client.get(url).text

    assert "Budget" in page and "500 EUR" in page
    assert "Internal rating" not in page and "difficult" not in page
    assert "Web Hosting" in page and "shop.example.com" in page
    assert "report.txt" in page and "/viewticket/attachment/" in page


def test_the_page_shows_its_times_in_the_portals_time_zone(app, client, make, open_ticket_now):
    app.config["TIMEZONE"] = "Europe/Amsterdam"
    ticket = open_ticket_now(make.department())
    # Stored as naive UTC: one summer time, one winter time across midnight.
    ticket.created_at = datetime(2026, 1, 15, 23, 5, 59)
    ticket.updated_at = datetime(2026, 7, 1, 12, 30)
    db.session.commit()

    page = client.get(view_url(ticket)).text

    assert "<dt>Opened</dt><dd>2026-01-16 00:05 CET</dd>" in page
    assert "<dt>Last update</dt><dd>2026-07-01 14:30 CEST</dd>" in page


def test_the_page_shows_the_related_domain_and_none_without_one(
    client, make, open_ticket_now, log_in
):
    account = make.client_account()
    department = make.department()
    domain = make.domain(account, name="example.org")
    with_domain = view_url(open_ticket_now(department, account=account, domainid=domain.id))
    without = view_url(open_ticket_now(department, account=account))
    log_in(account.owner)
    db.session.expunge_all()

    assert "<dd>example.org</dd>" in client.get(with_domain).text
    assert "<dd>None</dd>" in client.get(without).text


def test_a_views_only_cookie_is_the_session_its_reply_form_needs(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department())

    response = client.get(view_url(ticket))

    assert response.status_code == 200 and "Close ticket" in response.text
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert cookie.startswith("session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_whmcs_path_answers_too(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department())

    assert client.get(f"/viewticket.php?tid={ticket.tid}&c={ticket.access_code}").status_code == 200


def test_a_plain_message_is_escaped_with_its_line_breaks(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department(), message="<b>hi</b>\n**not bold**")

    page = client.get(view_url(ticket)).text

    assert "&lt;b&gt;hi&lt;/b&gt;<br>\n**not bold**" in page


def test_a_wrong_code_and_a_wrong_tid_give_the_same_not_found_page(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department())

    wrong_code = client.get(view_url(ticket, code="WRONG123"))
    wrong_tid = client.get(f"/viewticket?tid=NOPE-000000&c={ticket.access_code}")
    nothing = client.get("/viewticket")

    assert wrong_code.status_code == wrong_tid.status_code == nothing.status_code == 404
    assert wrong_code.text == wrong_tid.text == nothing.text
    assert "The requested ticket could not be found." in wrong_code.text


def test_an_account_ticket_needs_a_login(client, make, open_ticket_now):
    account = make.client_account()
    ticket = open_ticket_now(make.department(), account=account)

    response = client.get(view_url(ticket))

    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_a_member_of_the_account_sees_its_ticket(client, make, open_ticket_now, log_in):
    account = make.client_account()
    colleague = make.user()
    make.member(account, colleague)
    ticket = open_ticket_now(make.department(), account=account)

    log_in(colleague)

    assert client.get(view_url(ticket)).status_code == 200


def test_another_accounts_user_cannot_view_download_or_close(client, make, open_ticket_now, log_in):
    account = make.client_account()
    ticket = open_ticket_now(make.department(), account=account, files=[("a.txt", b"secret")])
    stranger_account = make.client_account()
    log_in(stranger_account.owner)

    view = client.get(view_url(ticket))
    download = client.get(
        f"/viewticket/attachment/{ticket.attachments[0].id}?tid={ticket.tid}&c={ticket.access_code}"
    )
    close = client.post("/viewticket/close", data={"tid": ticket.tid, "c": ticket.access_code})

    assert view.status_code == download.status_code == close.status_code == 404
    assert b"secret" not in download.data
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN


def test_a_download_is_an_attachment_that_is_never_sniffed(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department(), files=[("report.txt", b"line one\n")])
    attachment = ticket.attachments[0]

    response = client.get(
        f"/viewticket/attachment/{attachment.id}?tid={ticket.tid}&c={ticket.access_code}"
    )

    assert response.status_code == 200
    assert response.data == b"line one\n"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "report.txt" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_download_needs_the_right_code_and_its_own_ticket(client, make, open_ticket_now):
    department = make.department()
    mine = open_ticket_now(department, files=[("mine.txt", b"mine")])
    theirs = open_ticket_now(department, files=[("theirs.txt", b"theirs")])

    wrong_code = client.get(
        f"/viewticket/attachment/{mine.attachments[0].id}?tid={mine.tid}&c=WRONG123"
    )
    other_ticket = client.get(
        f"/viewticket/attachment/{theirs.attachments[0].id}?tid={mine.tid}&c={mine.access_code}"
    )

    assert wrong_code.status_code == other_ticket.status_code == 404


def close_link(page: str) -> str:
    return unescape(re.search(r'<a [^>]*href="([^"]*)"[^>]*>Close ticket</a>', page).group(1))


def test_closing_a_ticket(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department())

    confirm = client.get(close_link(client.get(view_url(ticket)).text))
    assert confirm.status_code == 200
    assert '<button type="submit">Close ticket</button>' in confirm.text
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN  # showing the form changes nothing

    response = client.post("/viewticket/close", data={"tid": ticket.tid, "c": ticket.access_code})

    assert response.status_code == 303
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.CLOSED
    page = client.get(view_url(ticket)).text
    assert "This ticket is closed." in page and "Close ticket" not in page
    # Said once, by the page; and the closing is on record, by the requester, as an update.
    assert page.count("is closed") == 1
    assert ticket.closed_at is not None and ticket.closed_by_name == "Gwen Guest"
    # MariaDB keeps whole seconds: the closing may share its second with the opening.
    assert ticket.updated_at == ticket.closed_at >= ticket.created_at
    assert "<dt>Closed</dt>" in page and "by Gwen Guest" in page
    again = client.get(f"/viewticket/close?tid={ticket.tid}&c={ticket.access_code}")
    assert again.status_code == 303 and again.location == view_url(ticket)


def test_a_ticket_that_prevents_closure_has_no_button_and_refuses_a_forged_post(
    client, make, open_ticket_now
):
    ticket = open_ticket_now(make.department(prevent_client_closure=True))

    page = client.get(view_url(ticket)).text
    form = client.get(f"/viewticket/close?tid={ticket.tid}&c={ticket.access_code}")
    forged = client.post("/viewticket/close", data={"tid": ticket.tid, "c": ticket.access_code})

    assert "Close ticket" not in page
    assert form.status_code == forged.status_code == 403
    assert CLIENT_CLOSURE_PREVENTED in form.text and "<form" not in form.text.split("<main")[1]
    assert CLIENT_CLOSURE_PREVENTED in forged.text
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN


def test_the_close_form_has_the_rights_of_the_view(client, make, open_ticket_now):
    guest_ticket = open_ticket_now(make.department())
    account_ticket = open_ticket_now(make.department(), account=make.client_account())

    wrong_code = client.get(f"/viewticket/close?tid={guest_ticket.tid}&c=WRONG123")
    no_login = client.get(
        f"/viewticket/close?tid={account_ticket.tid}&c={account_ticket.access_code}"
    )

    assert wrong_code.status_code == 404
    assert "The requested ticket could not be found." in wrong_code.text
    assert no_login.status_code == 302 and no_login.location.startswith("/login?next=")


def test_closing_with_a_wrong_code_is_not_found(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department())

    response = client.post("/viewticket/close", data={"tid": ticket.tid, "c": "WRONG123"})

    assert response.status_code == 404
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN


def test_the_close_rule_in_the_core(make, open_ticket_now):
    prevented = open_ticket_now(make.department(prevent_client_closure=True))
    allowed = open_ticket_now(make.department())

    with pytest.raises(NotAllowed):
        close_ticket_as_client(db.session, prevented, by="Dana")
    assert close_ticket_as_client(db.session, allowed, by="Dana") is True
    assert close_ticket_as_client(db.session, allowed, by="Dana") is False


def test_the_access_rule_in_the_core(make, open_ticket_now):
    account = make.client_account()
    ticket = open_ticket_now(make.department(), account=account)
    code = ticket.access_code

    assert ticket_access(db.session, ticket.tid, code, None).decision is Decision.LOGIN_REQUIRED
    assert ticket_access(db.session, ticket.tid, code, account.owner).granted
    assert ticket_access(db.session, ticket.tid, code, make.user()).decision is Decision.NOT_FOUND
    assert ticket_access(db.session, ticket.tid, "", account.owner).decision is Decision.NOT_FOUND


def test_my_tickets_lists_the_accounts_tickets_newest_first(client, make, open_ticket_now, log_in):
    account = make.client_account()
    department = make.department()
    open_ticket_now(department, account=account, subject="Older one")
    open_ticket_now(department, account=account, subject="Newer one")
    open_ticket_now(department, account=make.client_account(), subject="Not ours")
    log_in(account.owner)

    page = client.get("/tickets").text

    assert page.index("Newer one") < page.index("Older one")
    assert "Not ours" not in page


def test_my_tickets_needs_a_login(client):
    response = client.get("/tickets")

    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_the_page_shows_the_message_as_rendered_when_it_was_written(client, open_ticket_now, make):
    ticket = open_ticket_now(make.department(), message="*Hello*", markdown=True)
    assert "<em>Hello</em>" in client.get(view_url(ticket)).text
    # Stored by this renderer: shown as stored, not rendered again.
    db.session.execute(
        update(Ticket).where(Ticket.id == ticket.id).values(message_html="<p>as stored</p>")
    )
    db.session.commit()
    assert "<p>as stored</p>" in client.get(view_url(ticket)).text


def test_a_message_stored_by_another_renderer_is_rendered_again(client, open_ticket_now, make):
    ticket = open_ticket_now(make.department(), message="*Hello*", markdown=True)
    db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(message_html="<p>by an older renderer</p>", message_renderer="0 old")
    )
    db.session.commit()

    page = client.get(view_url(ticket)).text

    assert "by an older renderer" not in page
    assert "<em>Hello</em>" in page


@pytest.mark.parametrize(
    "typed",
    ["#{tid}", "{lower}", "  {tid}  ", " #{lower}\t"],
    ids=["with #", "lower case", "spaces around", "all three"],
)
def test_a_ticket_is_found_as_the_confirmation_prints_it(client, make, open_ticket_now, typed):
    ticket = open_ticket_now(make.department())
    number = typed.format(tid=ticket.tid, lower=ticket.tid.lower())

    page = client.get("/viewticket", query_string={"tid": number, "c": f" {ticket.access_code} "})

    assert page.status_code == 200
    assert f"View Ticket #{ticket.tid}" in page.text


def test_a_mask_with_lower_case_letters_keeps_its_numbers_exact(app, client, make, open_ticket_now):
    app.config["TICKET_MASK"] = "%a%a%a-%n%n%n"
    ticket = open_ticket_now(make.department())
    assert ticket.tid.islower()

    typed = client.get("/viewticket", query_string={"tid": ticket.tid, "c": ticket.access_code})
    upper = client.get(
        "/viewticket", query_string={"tid": ticket.tid.upper(), "c": ticket.access_code}
    )

    assert typed.status_code == 200
    assert upper.status_code == 404
