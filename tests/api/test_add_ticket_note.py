"""AddTicketNote: the credential's staff member notes a ticket named by id or number."""

from datetime import datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Editor, Ticket, TicketNote, TicketStatus
from tests.api.api_calls import base64_files


def notes(ticket: Ticket) -> list[TicketNote]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(TicketNote).where(TicketNote.ticket_id == ticket.id).order_by(TicketNote.id)
        )
    )


def test_a_note_by_ticketid_is_the_credentials_staff_members(api, ticket, api_staff):
    answer = api({"action": "AddTicketNote", "ticketid": ticket.id, "message": "Call them."})

    assert answer == {"result": "success"}
    [note] = notes(ticket)
    assert (note.staff_id, note.message, note.editor) == (api_staff.id, "Call them.", Editor.PLAIN)
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.OPEN


@pytest.mark.parametrize("spelling", ["{tid}", "#{tid}", " {tid} "])
def test_a_note_by_ticketnum(api, ticket, spelling):
    number = spelling.format(tid=ticket.tid)

    assert api({"action": "AddTicketNote", "ticketnum": number, "message": "x"})["result"] == (
        "success"
    )
    assert len(notes(ticket)) == 1


def test_ticketid_wins_over_ticketnum(api, open_ticket):
    first, second = open_ticket(), open_ticket()

    api({"action": "AddTicketNote", "ticketid": first.id, "ticketnum": second.tid, "message": "x"})

    assert (len(notes(first)), len(notes(second))) == (1, 0)


def test_markdown_created_and_attachments(api, ticket):
    api(
        {
            "action": "AddTicketNote",
            "ticketid": ticket.id,
            "message": "**x**",
            "markdown": "true",
            "created": "2024-05-01 09:30:00",
            "attachments": base64_files(("n.txt", b"note file")),
        }
    )

    [note] = notes(ticket)
    assert note.editor == Editor.MARKDOWN
    assert note.created_at == datetime(2024, 5, 1, 9, 30)
    assert [a.original_name for a in note.attachments] == ["n.txt"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ticketid": None}, "Ticket ID not found"),
        ({"ticketid": "0"}, "Ticket ID not found"),
        ({"ticketid": "99999999"}, "Ticket ID not found"),
        ({"ticketid": None, "ticketnum": "NOPE-000000"}, "Ticket ID not found"),
        ({"message": ""}, "Message is required"),
        ({"message": None}, "Message is required"),
        ({"created": "1st of May"}, "Invalid Date Format"),
        ({"created": "{future}"}, "Ticket creation date cannot be in the future"),
    ],
)
def test_each_documented_error_and_nothing_is_stored(api, ticket, changes, message):
    fields = {"action": "AddTicketNote", "ticketid": str(ticket.id), "message": "x"}
    for name, value in changes.items():
        if value is None:
            fields.pop(name)
        else:
            fields[name] = value.replace("{future}", f"{datetime.now().year + 1}-01-01")

    assert api(fields) == {"result": "error", "message": message}
    assert notes(ticket) == []


def test_a_ticket_number_differing_in_case_names_no_ticket(api, ticket):
    answer = api({"action": "AddTicketNote", "ticketnum": ticket.tid.lower(), "message": "x"})

    assert answer["message"] == "Ticket ID not found"
