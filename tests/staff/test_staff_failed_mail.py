"""Email the outbox gave up on is listed for staff, who can send it again."""

from portal.extensions import db
from portal.models import OutboxMessage, OutboxStatus


def failed_message(**fields) -> OutboxMessage:
    message = OutboxMessage(
        kind="ticket_opened",
        sender="support@example.com",
        recipients="gus@example.com",
        message="Subject: hi\n\nhello",
        status=OutboxStatus.FAILED,
        attempts=7,
        last_error="550 mailbox <gus@example.com> unavailable",
        **fields,
    )
    db.session.add(message)
    db.session.commit()
    return message


def test_failed_email_is_listed_with_its_error(staff_client):
    failed_message()
    page = staff_client.get("/staff/mail/failed").get_data(as_text=True)
    assert "gus@example.com" in page
    assert "550 mailbox &lt;gus@example.com&gt; unavailable" in page


def test_sending_again_makes_it_pending(staff_client):
    message_id = failed_message().id
    response = staff_client.post(f"/staff/mail/{message_id}/retry")
    assert response.status_code == 302
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message_id)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)


def test_only_failed_messages_can_be_sent_again(staff_client):
    message = failed_message()
    message.status = OutboxStatus.SENT
    db.session.commit()
    assert staff_client.post(f"/staff/mail/{message.id}/retry").status_code == 404


def test_clients_and_guests_see_nothing(client):
    assert client.get("/staff/mail/failed").status_code == 302
    assert client.post("/staff/mail/1/retry").status_code == 403


def test_an_id_beyond_any_row_is_not_found(staff_client):
    assert staff_client.post(f"/staff/mail/{2**40}/retry").status_code == 404
