"""The guest form's honeypot and minimum time: robots are refused, people keep what they typed."""

import time

import pytest

from portal.client.guest_checks import HONEYPOT_FILLED, TOO_FAST, shown_stamp
from tests.abuse.conftest import hidden_value, ticket_count
from tests.factories import PASSWORD

MINIMUM = 30


@pytest.fixture
def app_config(app_config):
    return {**app_config, "GUEST_FORM_MIN_SECONDS": MINIMUM}


def shown_ago(form: dict, seconds: float) -> dict:
    """The form as if it had been shown `seconds` ago."""
    return {**form, "shown": shown_stamp(form["draft"], shown_at=time.time() - seconds)}


def test_the_honeypot_is_labelled_for_people_and_hidden_by_a_stylesheet(client, department):
    page = client.get(f"/submitticket?deptid={department.id}").text

    assert '<div class="trap-field">' in page
    assert '<label for="field-website">Leave this field empty</label>' in page
    assert 'name="website" value="" autocomplete="off" tabindex="-1"' in page
    assert "style=" not in page


def test_a_filled_honeypot_is_refused_and_the_rest_is_kept(client, guest_form):
    form = shown_ago(guest_form(subject="Buy cheap watches"), MINIMUM + 1)

    refused = client.post("/submitticket", data={**form, "website": "http://spam.example"})

    assert refused.status_code == 422
    assert HONEYPOT_FILLED in refused.text
    assert 'value="Buy cheap watches"' in refused.text
    assert "http://spam.example" not in refused.text
    assert ticket_count() == 0


def test_a_form_sent_before_the_minimum_time_is_refused_and_kept(client, guest_form):
    form = guest_form(subject="Very quick")

    refused = client.post("/submitticket", data=shown_ago(form, MINIMUM - 5))

    assert refused.status_code == 422
    assert TOO_FAST in refused.text
    assert 'value="Very quick"' in refused.text
    assert ticket_count() == 0


def test_a_form_sent_after_the_minimum_time_opens_the_ticket(client, guest_form):
    response = client.post("/submitticket", data=shown_ago(guest_form(), MINIMUM + 1))

    assert response.status_code == 303
    assert ticket_count() == 1


def test_a_form_shown_again_keeps_the_time_it_was_first_shown(client, guest_form):
    form = shown_ago(guest_form(), MINIMUM - 5)

    refused = client.post("/submitticket", data=form)

    # The wait is not started over: sent again a little later, the form gets through.
    assert refused.status_code == 422
    assert f'name="shown" value="{form["shown"]}"' in refused.text


@pytest.mark.parametrize(
    "stamp",
    ["", "not-a-stamp", "1000000000.000.AAAAAAAAAAAAAAAAAAAAAA", "1000000000.000.é"],
    ids=["missing", "garbage", "forged", "not ascii"],
)
def test_a_missing_or_forged_stamp_is_refused(client, guest_form, stamp):
    refused = client.post("/submitticket", data={**guest_form(), "shown": stamp})

    assert refused.status_code == 422
    assert TOO_FAST in refused.text
    assert ticket_count() == 0


def test_a_stamp_whose_time_was_moved_back_is_refused(client, guest_form):
    form = guest_form()
    signed = form["shown"].rpartition(".")[2]
    moved_back = f"{time.time() - MINIMUM - 60:.3f}.{signed}"

    refused = client.post("/submitticket", data={**form, "shown": moved_back})

    assert refused.status_code == 422
    assert TOO_FAST in refused.text
    assert ticket_count() == 0


def test_a_stamp_made_for_another_form_is_refused(client, guest_form):
    older = shown_ago(guest_form(), MINIMUM + 1)

    refused = client.post("/submitticket", data={**guest_form(), "shown": older["shown"]})

    assert refused.status_code == 422
    assert ticket_count() == 0


def test_signed_in_clients_see_no_trap_and_are_not_timed(client, make, department):
    account = make.client_account()
    client.post("/login", data={"email": account.owner.email, "password": PASSWORD})

    page = client.get(f"/submitticket?deptid={department.id}").text
    draft = hidden_value(page, "draft")
    response = client.post(
        "/submitticket",
        data={
            "deptid": str(department.id),
            "account_id": str(account.id),
            "draft": draft,
            "subject": "Signed in",
            "message": "Straight away.",
            "action": "submit",
        },
    )

    assert "trap-field" not in page
    assert 'name="shown"' not in page
    assert response.status_code == 303
    assert ticket_count() == 1
