"""With CSRF protection on, as in production, a POST without the form's token is refused."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Ticket, TicketStatus


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def test_forged_posts_without_a_token_are_refused(client, make, open_ticket_now):
    ticket = open_ticket_now(make.department())

    close = client.post("/viewticket/close", data={"tid": ticket.tid, "c": ticket.access_code})
    submit = client.post(
        "/submitticket",
        data={
            "deptid": ticket.department_id,
            "name": "N",
            "email": "n@example.com",
            "subject": "S",
            "message": "M",
        },
    )
    preview = client.post("/markdown-preview", data={"message": "hi"})
    logout = client.post("/logout")
    reply = client.post(
        "/viewticket/reply", data={"tid": ticket.tid, "c": ticket.access_code, "message": "M"}
    )

    assert close.status_code == submit.status_code == preview.status_code == 400
    assert reply.status_code == 400 and ticket.replies == []
    assert logout.status_code == 400
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN
    assert db.session.scalar(select(func.count(Ticket.id))) == 1
