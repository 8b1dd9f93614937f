"""UpdateTicket: each parameter changes what it names; closing is status=Closed."""

import base64
from datetime import datetime

import pytest

from portal.extensions import db
from portal.models import Editor, Priority, Ticket, TicketStatus


def updated(api, ticket: Ticket, **fields) -> Ticket:
    answer = api({"action": "UpdateTicket", "ticketid": str(ticket.id), **fields})
    assert answer == {"result": "success", "ticketid": str(ticket.id)}
    db.session.rollback()
    return db.session.get(Ticket, ticket.id)


def test_status_closed_closes_the_ticket_and_records_who(api, ticket, api_staff):
    api_staff.first_name, api_staff.last_name = "Ada", "Admin"
    db.session.commit()

    closed = updated(api, ticket, status="Closed")

    assert closed.status == TicketStatus.CLOSED
    assert closed.closed_at is not None
    assert closed.closed_by_name == "Ada Admin"


def test_another_status_reopens_it(api, ticket):
    updated(api, ticket, status="Closed")

    reopened = updated(api, ticket, status="In Progress")

    assert (reopened.status, reopened.closed_at) == (TicketStatus.IN_PROGRESS, None)


def test_deptid_moves_it_and_inherits_prevent_client_closure(api, make, ticket):
    strict = make.department(prevent_client_closure=True)

    moved = updated(api, ticket, deptid=str(strict.id))

    assert (moved.department_id, moved.prevent_client_closure) == (strict.id, True)


def test_prevent_client_closure_given_wins_over_the_department(api, make, ticket):
    strict = make.department(prevent_client_closure=True)

    moved = updated(api, ticket, deptid=str(strict.id), preventClientClosure="0")

    assert moved.prevent_client_closure is False


@pytest.mark.parametrize(
    ("field", "value", "attribute", "expected"),
    [
        ("subject", "New subject", "subject", "New subject"),
        ("priority", "High", "priority", Priority.HIGH),
        ("name", "Gail Guest", "name", "Gail Guest"),
        ("email", "gail@example.com", "email", "gail@example.com"),
        ("cc", "boss@example.com", "cc", "boss@example.com"),
        ("created", "2024-05-01 09:30:00", "created_at", datetime(2024, 5, 1, 9, 30)),
        ("message", "Rewritten", "message", "Rewritten"),
        ("preventClientClosure", "1", "prevent_client_closure", True),
    ],
)
def test_each_field_changes_what_it_names(api, ticket, field, value, attribute, expected):
    assert getattr(updated(api, ticket, **{field: value}), attribute) == expected


@pytest.mark.parametrize("field", ["userid", "clientid"])
def test_userid_or_clientid_gives_the_ticket_to_an_account(api, make, ticket, field):
    account = make.client_account()

    moved = updated(api, ticket, **{field: str(account.id)})

    assert (moved.client_id, moved.user_id) == (account.id, account.owner.id)
    assert (moved.name, moved.email) == (account.owner.name, account.owner.email)


@pytest.mark.parametrize("field", ["markdown", "useMarkdown"])
def test_markdown_with_a_new_message(api, ticket, field):
    changed = updated(api, ticket, message="**new**", **{field: "1"})

    assert changed.editor == Editor.MARKDOWN
    assert "<strong>new</strong>" in changed.message_html


def test_flag_and_remove_flag(api, ticket, make):
    staff = make.staff()

    assert updated(api, ticket, flag=str(staff.id)).flagged_staff_id == staff.id
    assert updated(api, ticket, flag="0").flagged_staff_id == staff.id
    assert updated(api, ticket, removeFlag="true").flagged_staff_id is None


def test_customfields_change_the_values(api, make, department, ticket):
    field = make.custom_field(department, name="Order")
    encoded = base64.b64encode(f'{{"{field.id}": "B-7"}}'.encode()).decode()

    [value] = updated(api, ticket, customfields=encoded).custom_field_values

    assert value.value == "B-7"


def test_nothing_but_ticketid_changes_nothing(api, ticket):
    same = updated(api, ticket)

    assert (same.status, same.subject, same.priority) == (
        ticket.status,
        ticket.subject,
        ticket.priority,
    )


def test_empty_values_leave_fields_as_they_are_as_in_php(api, ticket):
    same = updated(api, ticket, subject="", status="", priority="", deptid="")

    assert (same.subject, same.status) == (ticket.subject, ticket.status)


STATUSES = "Open,Answered,Customer-Reply,On Hold,In Progress,Closed"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ticketid": None}, "Ticket ID Not Found"),
        ({"ticketid": "0"}, "Ticket ID Not Found"),
        ({"ticketid": "99999999"}, "Ticket ID Not Found"),
        ({"deptid": "99999999"}, "Department ID Not Found"),
        ({"deptid": "0"}, "Department ID Not Found"),
        (
            {"priority": "Urgent"},
            "Invalid Ticket Priority. Valid priorities are: Low,Medium,High",
        ),
        ({"status": "Bogus"}, f"Invalid Ticket Status. Valid statuses are: {STATUSES}"),
        ({"created": "not a date"}, "Invalid Date Format"),
        ({"created": "{future}"}, "Ticket creation date cannot be in the future"),
        ({"userid": "99999999"}, "Client ID Not Found"),
        ({"email": "not an address"}, "Email Address Invalid"),
        ({"flag": "99999999"}, "Flag Admin ID Not Found"),
        ({"subject": "x" * 256}, "Subject is too long (at most 255 characters)"),
    ],
)
def test_each_error_and_nothing_changes(api, ticket, changes, message):
    fields = {"action": "UpdateTicket", "ticketid": str(ticket.id), "subject": "Changed?"}
    for name, value in changes.items():
        if value is None:
            fields.pop(name)
        else:
            fields[name] = value.replace("{future}", f"{datetime.now().year + 1}-01-01")

    assert api(fields) == {"result": "error", "message": message}

    db.session.rollback()
    assert db.session.get(Ticket, ticket.id).subject == "Printer on fire"


def test_several_errors_answer_the_first_in_whmcs_order(api, ticket):
    answer = api(
        {"action": "UpdateTicket", "ticketid": ticket.id, "deptid": "99999", "status": "Bogus"}
    )

    assert answer["message"] == "Department ID Not Found"
