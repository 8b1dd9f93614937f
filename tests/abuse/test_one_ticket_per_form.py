"""A double click, a POST sent again after Back, or a retry opens one ticket, never two."""

import io
import threading
from pathlib import Path

from flask import Flask

from portal.client.submission import ALREADY_SENT
from portal.staff.views import ALREADY_SENT as STAFF_ALREADY_SENT
from tests.abuse.conftest import hidden_value, key_count, ticket_count


def test_a_guest_form_sent_twice_opens_one_ticket_and_shows_it_twice(client, guest_form):
    form = guest_form()

    first = client.post("/submitticket", data=form)
    second = client.post("/submitticket", data=form)

    assert first.status_code == second.status_code == 303
    assert second.location == first.location
    assert ticket_count() == 1
    confirmation = client.get(second.location).text
    assert "Ticket Created #" in confirmation
    assert ALREADY_SENT in confirmation


def test_a_form_changed_after_back_still_shows_the_first_ticket(client, guest_form):
    form = guest_form(subject="First wording")
    first = client.post("/submitticket", data=form)

    again = client.post("/submitticket", data={**form, "subject": "Second wording"})

    assert again.location == first.location
    assert ticket_count() == 1


def test_a_fresh_form_opens_a_new_ticket(client, guest_form):
    first = client.post("/submitticket", data=guest_form())
    second = client.post("/submitticket", data=guest_form())

    assert first.location != second.location
    assert ticket_count() == 2


def test_a_draft_of_another_session_is_not_a_key_to_its_ticket(app, client, guest_form):
    form = guest_form()
    client.post("/submitticket", data=form)

    stranger = app.test_client().post("/submitticket", data=form)

    # The stranger's post is a submission of its own: it cannot reach the first confirmation.
    assert stranger.status_code == 303
    assert ticket_count() == 2


def test_a_refused_form_sent_again_corrected_opens_its_ticket(client, guest_form):
    form = guest_form(subject="")
    refused = client.post("/submitticket", data=form)
    assert refused.status_code == 422

    corrected = client.post(
        "/submitticket", data={**form, "subject": "Now with a subject", "draft": form["draft"]}
    )

    assert corrected.status_code == 303
    assert ticket_count() == 1


def test_two_posts_of_one_form_at_the_same_moment_open_one_ticket_and_keep_one_file(
    app: Flask, client, guest_form
):
    form = guest_form()
    session_cookie = client.get_cookie("session").value
    barrier = threading.Barrier(2)
    locations: list[str] = []
    failures: list[BaseException] = []

    def post() -> None:
        try:
            with app.app_context():
                browser = app.test_client()
                browser.set_cookie("session", session_cookie)
                barrier.wait()
                # Each opens its ticket before claiming the form's key: the loser's ticket and
                # its stored file are rolled back.
                upload = (io.BytesIO(b"same file"), "same.txt")
                response = browser.post("/submitticket", data={**form, "attachments": upload})
                locations.append(f"{response.status_code} {response.location}")
        except BaseException as error:  # collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert len(locations) == 2
    assert locations[0] == locations[1]
    assert locations[0].startswith("303 /submitticket/complete/")
    assert ticket_count() == 1
    assert key_count() == 1
    stored = [path for path in Path(app.config["ATTACHMENTS_DIR"]).rglob("*") if path.is_file()]
    assert len(stored) == 1


def staff_form(staff_client, department) -> dict:
    page = staff_client.get("/staff/tickets/new").text
    return {
        "draft": hidden_value(page, "draft"),
        "clientid": "",
        "name": "Pat Phone",
        "email": "pat@example.com",
        "deptid": str(department.id),
        "subject": "Called about an invoice",
        "message": "Wants a copy of the invoice.",
        "priority": "Medium",
        "action": "open",
    }


def test_open_new_ticket_sent_twice_opens_one_ticket(staff_client, department):
    form = staff_form(staff_client, department)

    first = staff_client.post("/staff/tickets/new", data=form)
    second = staff_client.post("/staff/tickets/new", data=form)

    assert first.status_code == second.status_code == 303
    assert second.location == first.location
    assert ticket_count() == 1
    confirmation = staff_client.get(second.location).text
    assert "Ticket Created #" in confirmation
    assert STAFF_ALREADY_SENT in confirmation


def test_open_new_ticket_from_a_fresh_form_opens_another(staff_client, department):
    staff_client.post("/staff/tickets/new", data=staff_form(staff_client, department))
    staff_client.post("/staff/tickets/new", data=staff_form(staff_client, department))

    assert ticket_count() == 2
