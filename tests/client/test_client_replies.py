"""Replying on the ticket page: guests with tid and code, signed-in users of the account."""

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Attachment, TicketReply, TicketStatus
from portal.tickets.changes import close_ticket
from portal.tickets.notes import NoteRequest, add_note
from tests.client.conftest import upload


def view_url(ticket) -> str:
    return f"/viewticket?tid={ticket.tid}&c={ticket.access_code}"


def draft_of(page: str) -> str:
    return re.search(r'name="draft" value="([^"]+)"', page).group(1)


@pytest.fixture
def reply_on_page(client):
    """Open the ticket page, then send its reply form as a browser would."""

    def send(ticket, message="Thanks, that worked.", *, files=(), draft=None, **extra):
        page = client.get(view_url(ticket))
        assert page.status_code == 200
        data = {
            "tid": ticket.tid,
            "c": ticket.access_code,
            "draft": draft or draft_of(page.text),
            "message": message,
            "action": "reply",
            **extra,
        }
        if files:
            data["attachments"] = [upload(name, body) for name, body in files]
        return client.post("/viewticket/reply", data=data, content_type="multipart/form-data")

    return send


def replies() -> list[TicketReply]:
    return list(db.session.scalars(select(TicketReply).order_by(TicketReply.id)))


def test_a_guest_replies_and_sees_the_reply_in_the_thread(
    client, make, open_ticket_now, reply_on_page
):
    ticket = open_ticket_now(make.department())

    response = reply_on_page(ticket, "Here is **more**.", files=[("log.txt", b"trace")])

    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    assert "Your reply was sent." in page
    assert "Here is <strong>more</strong>." in page and "log.txt" in page
    (reply,) = replies()
    assert (reply.name, reply.email) == ("Gwen Guest", "gwen@example.com")
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.CUSTOMER_REPLY
    # The opening message comes first, then the reply, each with its mark.
    assert page.index("It is **really** on fire.") < page.index("Here is")
    assert "mark-client" in page


def test_a_reply_file_downloads_with_tid_and_code_only(
    client, make, open_ticket_now, reply_on_page
):
    ticket = open_ticket_now(make.department())
    reply_on_page(ticket, files=[("log.txt", b"trace")])
    (attachment,) = replies()[0].attachments

    url = f"/viewticket/attachment/{attachment.id}"
    assert client.get(f"{url}?tid={ticket.tid}&c={ticket.access_code}").data == b"trace"
    assert client.get(f"{url}?tid={ticket.tid}&c=wrong").status_code == 404


def test_an_empty_reply_comes_back_with_its_file_held_and_nothing_stored(
    client, make, open_ticket_now, reply_on_page, attachments_dir
):
    ticket = open_ticket_now(make.department())

    response = reply_on_page(ticket, "   ", files=[("log.txt", b"trace")])

    assert response.status_code == 422
    assert "You did not enter a message" in response.text
    assert "log.txt" in response.text and "Files already attached" in response.text
    assert replies() == [] and db.session.scalar(select(func.count(Attachment.id))) == 0
    # The held file goes with the next try of the same draft.
    again = client.post(
        "/viewticket/reply",
        data={
            "tid": ticket.tid,
            "c": ticket.access_code,
            "draft": draft_of(response.text),
            "message": "Now with words",
        },
    )
    assert again.status_code == 303
    assert [a.original_name for a in replies()[0].attachments] == ["log.txt"]


def test_the_same_form_sent_twice_adds_one_reply(client, make, open_ticket_now, reply_on_page):
    ticket = open_ticket_now(make.department())
    page = client.get(view_url(ticket)).text
    draft = draft_of(page)

    first = reply_on_page(ticket, draft=draft)
    second = reply_on_page(ticket, draft=draft)

    assert first.status_code == second.status_code == 303
    assert len(replies()) == 1


def test_a_closed_ticket_says_a_reply_reopens_it_and_it_does(
    client, make, open_ticket_now, reply_on_page
):
    ticket = open_ticket_now(make.department())
    close_ticket(db.session, ticket, by="Stan Staff")
    db.session.commit()

    page = client.get(view_url(ticket)).text
    assert "You may reply to this ticket to reopen it." in page
    assert "Replying reopens this ticket." in page

    reply_on_page(ticket, "It broke again")
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.CUSTOMER_REPLY and ticket.closed_at is None


def test_notes_and_their_files_never_reach_the_client(client, make, open_ticket_now, settings):
    ticket = open_ticket_now(make.department())
    from tests.core.conftest import encode_attachments

    note = add_note(
        db.session,
        ticket,
        NoteRequest(
            message="Internal: refund later", attachments=encode_attachments(("n.txt", b"x"))
        ),
        settings,
        staff=make.staff(),
    )
    db.session.commit()

    page = client.get(view_url(ticket)).text
    assert "refund later" not in page and "n.txt" not in page and "Internal note" not in page
    (file,) = note.attachments
    download = client.get(
        f"/viewticket/attachment/{file.id}?tid={ticket.tid}&c={ticket.access_code}"
    )
    assert download.status_code == 404


def test_a_wrong_code_cannot_reply(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department())

    response = client.post(
        "/viewticket/reply", data={"tid": ticket.tid, "c": "nope", "message": "hi"}
    )

    assert response.status_code == 404 and replies() == []


def test_an_accounts_ticket_needs_a_member_to_reply(
    client, make, open_ticket_now, log_in, reply_on_page
):
    account = make.client_account()
    ticket = open_ticket_now(make.department(), account=account)
    data = {"tid": ticket.tid, "c": ticket.access_code, "message": "hi"}

    assert client.post("/viewticket/reply", data=data).status_code == 403
    log_in(make.user())  # a user of no account, or of another
    assert client.post("/viewticket/reply", data=data).status_code == 404
    assert replies() == []

    client.post("/logout")
    log_in(account.owner)
    assert reply_on_page(ticket, "From the owner").status_code == 303
    (reply,) = replies()
    assert reply.user_id == account.owner.id and reply.name == account.owner.name


def test_the_preview_button_shows_the_formatted_reply_without_sending(
    client, make, open_ticket_now, reply_on_page
):
    ticket = open_ticket_now(make.department())

    response = reply_on_page(ticket, "Some *emphasis*", action="preview")

    assert response.status_code == 200 and "<em>emphasis</em>" in response.text
    assert replies() == []


def test_replies_are_shown_newest_first_when_so_configured(
    app, client, make, open_ticket_now, reply_on_page
):
    ticket = open_ticket_now(make.department())
    reply_on_page(ticket, "first reply")
    reply_on_page(ticket, "second reply")

    oldest_first = client.get(view_url(ticket)).text
    app.config["TICKET_REPLIES_NEWEST_FIRST"] = True
    newest_first = client.get(view_url(ticket)).text

    assert oldest_first.index("first reply") < oldest_first.index("second reply")
    assert newest_first.index("second reply") < newest_first.index("first reply")
