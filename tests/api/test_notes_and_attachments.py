"""GetTicketNotes and GetTicketAttachment."""

import base64

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import TicketNote, TicketReply
from portal.tickets.attachments import stored_path
from tests.api.api_calls import base64_files


def test_notes_listed_oldest_first(api, ticket, api_staff):
    for created, message in (("2024-05-02 10:00:00", "second"), ("2024-05-01 10:00:00", "first")):
        api(
            {
                "action": "AddTicketNote",
                "ticketid": ticket.id,
                "message": message,
                "created": created,
                "attachments": base64_files(("n.txt", b"n"), ("m.txt", b"m")),
            }
        )

    answer = api({"action": "GetTicketNotes", "ticketid": str(ticket.id)})

    notes = db.session.scalars(select(TicketNote).order_by(TicketNote.created_at)).all()
    assert answer["totalresults"] == 2
    first = answer["notes"]["note"][0]
    files = notes[0].attachments
    assert first == {
        "id": str(notes[0].id),
        "admin": api_staff.name,
        "date": "2024-05-01 10:00:00",
        "message": "first",
        "attachment": f"{files[0].id}_n.txt|{files[1].id}_m.txt",
        "attachments_removed": False,
    }
    assert answer["notes"]["note"][1]["message"] == "second"


def test_a_ticket_without_notes(api, ticket):
    assert api({"action": "GetTicketNotes", "ticketid": ticket.id}) == {
        "result": "success",
        "totalresults": 0,
        "notes": {"note": []},
    }


@pytest.mark.parametrize("ticketid", [None, "0", "99999999", "abc"])
def test_notes_of_an_unknown_ticket(api, ticketid):
    fields = {"action": "GetTicketNotes"} | ({} if ticketid is None else {"ticketid": ticketid})

    assert api(fields) == {"result": "error", "message": "Ticket ID Not Found"}


@pytest.fixture
def with_files(api, make, open_ticket):
    """A ticket, a reply and a note, each with two files; and a reply without any."""
    make.staff(username="demo")
    ticket = open_ticket(attachments=base64_files(("t0.txt", b"ticket 0"), ("t1.txt", b"ticket 1")))
    api(
        {
            "action": "AddTicketReply",
            "ticketid": ticket.id,
            "message": "r",
            "adminusername": "demo",
            "attachments": base64_files(("r0.txt", b"reply 0"), ("r1.txt", b"reply 1")),
        }
    )
    api(
        {
            "action": "AddTicketReply",
            "ticketid": ticket.id,
            "message": "bare",
            "adminusername": "demo",
        }
    )
    api(
        {
            "action": "AddTicketNote",
            "ticketid": ticket.id,
            "message": "n",
            "attachments": base64_files(("n0.txt", b"note 0"), ("n1.txt", b"note 1")),
        }
    )
    reply, bare = db.session.scalars(select(TicketReply).order_by(TicketReply.id)).all()
    note = db.session.scalars(select(TicketNote)).one()
    return {"ticket": ticket.id, "reply": reply.id, "note": note.id, "bare": bare.id}


@pytest.mark.parametrize(
    ("kind", "index", "filename", "data"),
    [
        ("ticket", "0", "t0.txt", b"ticket 0"),
        ("ticket", "1", "t1.txt", b"ticket 1"),
        ("reply", "1", "r1.txt", b"reply 1"),
        ("note", "0", "n0.txt", b"note 0"),
        ("Note", " 1", "n1.txt", b"note 1"),
    ],
)
def test_a_file_by_type_related_id_and_index(api, with_files, kind, index, filename, data):
    answer = api(
        {
            "action": "GetTicketAttachment",
            "type": kind,
            "relatedid": str(with_files[kind.lower()]),
            "index": index,
        }
    )

    assert answer == {
        "result": "success",
        "filename": filename,
        "data": base64.b64encode(data).decode(),
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"relatedid": None}, "Related ID Required"),
        ({"relatedid": "0"}, "Related ID Required"),
        ({"relatedid": "abc"}, "Related ID Required"),
        ({"type": None}, "Invalid Type. Must be one of ticket, reply, note"),
        ({"type": "message"}, "Invalid Type. Must be one of ticket, reply, note"),
        ({"relatedid": "99999999"}, "Related ID Not Found"),
        ({"relatedid": "-3"}, "Related ID Not Found"),
        ({"index": None}, "Attachment Index Required"),
        ({"index": ""}, "Attachment Index Required"),
        ({"type": "reply", "relatedid": "{bare}"}, "No Attachments Found"),
        ({"index": "2"}, "Invalid Attachment Index"),
        ({"index": "-1"}, "Invalid Attachment Index"),
    ],
)
def test_each_documented_error(api, with_files, fields, message):
    request = {
        "action": "GetTicketAttachment",
        "type": "ticket",
        "relatedid": str(with_files["ticket"]),
        "index": "0",
    }
    for name, value in fields.items():
        if value is None:
            request.pop(name)
        else:
            request[name] = value.format(**with_files)

    assert api(request) == {"result": "error", "message": message}


def test_attachments_deleted_once_the_files_are_gone(api, with_files, attachments_dir):
    reply = db.session.get(TicketReply, with_files["reply"])
    stored_path(attachments_dir, reply.attachments[0].stored_name).unlink()

    answer = api(
        {"action": "GetTicketAttachment", "type": "reply", "relatedid": str(reply.id), "index": "1"}
    )

    assert answer == {"result": "error", "message": "Attachments Deleted"}
