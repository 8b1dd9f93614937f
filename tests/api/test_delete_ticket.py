"""DeleteTicket: the ticket and everything on it go, its files once that is committed."""

import base64

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.models import (
    Attachment,
    CustomFieldValue,
    IdempotencyKey,
    OutboxMessage,
    Ticket,
    TicketNote,
    TicketReply,
)
from tests.api.api_calls import base64_files
from tests.conftest import stored_files


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def full_ticket(api, make, department):
    """A ticket with a file on its opening message, a reply and a note with files, a custom
    field value, queued email and a submission key."""
    field = make.custom_field(department)
    make.staff(username="demo")
    opened = api(
        {
            "action": "OpenTicket",
            "deptid": department.id,
            "subject": "S",
            "message": "M",
            "name": "G",
            "email": "g@example.com",
            "attachments": base64_files(("a.txt", b"a")),
            "customfields": base64.b64encode(f'{{"{field.id}": "v"}}'.encode()).decode(),
        },
        headers={"Idempotency-Key": "k-1"},
    )
    ticket_id = opened["id"]
    api(
        {
            "action": "AddTicketReply",
            "ticketid": ticket_id,
            "message": "r",
            "adminusername": "demo",
            "attachments": base64_files(("b.txt", b"b")),
        }
    )
    api(
        {
            "action": "AddTicketNote",
            "ticketid": ticket_id,
            "message": "n",
            "attachments": base64_files(("c.txt", b"c")),
        }
    )
    return db.session.get(Ticket, int(ticket_id))


MODELS = (
    Ticket,
    TicketReply,
    TicketNote,
    Attachment,
    CustomFieldValue,
    OutboxMessage,
    IdempotencyKey,
)


def test_it_deletes_the_ticket_and_all_on_it(api, full_ticket, attachments_dir):
    assert [count(model) > 0 for model in MODELS] == [True] * len(MODELS)
    assert len(stored_files(attachments_dir)) == 3

    answer = api({"action": "DeleteTicket", "ticketid": str(full_ticket.id)})

    assert answer == {"result": "success"}
    assert [count(model) for model in MODELS] == [0] * len(MODELS)
    assert stored_files(attachments_dir) == []


def test_other_tickets_stay(api, full_ticket, ticket, attachments_dir):
    api({"action": "DeleteTicket", "ticketid": full_ticket.id})

    assert db.session.get(Ticket, ticket.id) is not None


@pytest.mark.parametrize("ticketid", [None, "", "0", "-1", "abc", "99999999"])
def test_an_unknown_ticket_is_not_found(api, ticket, ticketid):
    fields = {"action": "DeleteTicket"} | ({} if ticketid is None else {"ticketid": ticketid})

    assert api(fields) == {"result": "error", "message": "Ticket ID not found"}
    assert count(Ticket) == 1


def test_a_failed_commit_keeps_the_ticket_and_its_files(
    call_api, full_ticket, attachments_dir, monkeypatch
):
    def fail(*args, **kwargs):
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(db.session(), "commit", fail)
    response = call_api(
        {"action": "DeleteTicket", "ticketid": full_ticket.id, "responsetype": "json"}
    )
    monkeypatch.undo()

    assert response.status_code == 503
    assert response.json["message"] == (
        "The ticket could not be saved; nothing was stored. Please submit again."
    )
    assert count(Ticket) == 1
    assert len(stored_files(attachments_dir)) == 3
