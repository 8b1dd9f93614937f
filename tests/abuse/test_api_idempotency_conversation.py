"""Idempotency-Key on AddTicketReply and AddTicketNote: a retry adds nothing."""

import pytest
from sqlalchemy import func, select

from portal.api.views import KEY_REUSED
from portal.extensions import db
from portal.models import IdempotencyKey, TicketNote, TicketReply
from tests.abuse.conftest import key_count
from tests.api.api_calls import read_answer

KEY = "0b6f5a9e-1d2c-4c1e-9d44-3a3f1c2b7e10"


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def ticket_id(call_api, ticket_fields) -> str:
    return read_answer(call_api(ticket_fields), "json")["id"]


@pytest.fixture(params=["reply", "note"])
def writing(request, ticket_id, make):
    """The fields of an AddTicketReply (by a staff member) or an AddTicketNote, and its model."""
    if request.param == "reply":
        make.staff(username="demo")
        fields = {"action": "AddTicketReply", "adminusername": "demo"}
        return {**fields, "ticketid": ticket_id, "message": "m", "responsetype": "json"}, (
            TicketReply
        )
    fields = {"action": "AddTicketNote", "ticketid": ticket_id, "message": "m"}
    return {**fields, "responsetype": "json"}, TicketNote


def test_the_same_key_twice_adds_one_and_answers_the_same(call_api, writing):
    fields, model = writing

    first = call_api(fields, key=KEY)
    second = call_api(fields, key=KEY)

    assert read_answer(first, "json") == {"result": "success"}
    assert second.data == first.data
    assert second.headers["Idempotent-Replayed"] == "true"
    assert count(model) == 1
    record = db.session.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.reply_id.isnot(None) | IdempotencyKey.note_id.isnot(None)
        )
    ).one()
    assert (record.reply_id or record.note_id) == db.session.scalars(select(model.id)).one()


def test_the_key_may_come_as_a_field(call_api, writing):
    fields, model = writing

    call_api({**fields, "idempotencykey": KEY})
    call_api(fields, key=KEY)

    assert count(model) == 1


def test_the_same_key_with_another_message_is_refused(call_api, writing):
    fields, model = writing
    call_api(fields, key=KEY)

    refused = call_api({**fields, "message": "other"}, key=KEY)

    assert refused.status_code == 422
    assert read_answer(refused, "json") == {"result": "error", "message": KEY_REUSED}
    assert count(model) == 1


def test_a_refused_request_leaves_the_key_unused(call_api, writing):
    fields, model = writing
    keys_before = key_count()

    refused = call_api({**fields, "message": ""}, key=KEY)
    accepted = call_api(fields, key=KEY)

    assert read_answer(refused, "json")["message"] == "Message is required"
    assert read_answer(accepted, "json") == {"result": "success"}
    assert "Idempotent-Replayed" not in accepted.headers
    assert (count(model), key_count()) == (1, keys_before + 1)


def test_an_unknown_ticket_is_not_remembered(call_api, writing):
    fields, model = writing

    answer = read_answer(call_api({**fields, "ticketid": "99999"}, key=KEY), "json")

    assert answer == {"result": "error", "message": "Ticket ID not found"}
    assert count(model) == 0


def test_another_ticket_with_the_same_key_is_another_request(call_api, writing, ticket_fields):
    fields, _model = writing
    other = read_answer(call_api(ticket_fields), "json")["id"]
    call_api(fields, key=KEY)

    assert call_api({**fields, "ticketid": other}, key=KEY).status_code == 422


def test_a_key_of_an_opened_ticket_is_not_a_replys(call_api, ticket_fields, writing):
    fields, model = writing
    call_api(ticket_fields, key=KEY)

    assert call_api(fields, key=KEY).status_code == 422
    assert count(model) == 0


def test_a_key_too_long_is_refused(call_api, writing):
    fields, model = writing

    response = call_api(fields, key="k" * 256)

    assert response.status_code == 400
    assert count(model) == 0
