"""Idempotency-Key: a retried API call gets the first answer and opens nothing."""

import io
import json
import threading
from datetime import timedelta

from sqlalchemy import select, update

from portal.api.views import KEY_REUSED, KEY_TOO_LONG
from portal.extensions import db
from portal.models import IdempotencyKey, utcnow
from portal.tickets import idempotency
from tests.abuse.conftest import key_count, ticket_count
from tests.api.api_calls import API_URL, read_answer

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def test_the_same_key_twice_answers_the_same_and_opens_one_ticket(call_api, ticket_fields):
    first = call_api(ticket_fields, key=KEY)
    second = call_api(ticket_fields, key=KEY)

    assert first.status_code == second.status_code == 200
    assert read_answer(first, "json")["result"] == "success"
    assert second.data == first.data
    assert second.content_type == first.content_type
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert ticket_count() == 1


def test_a_retry_asking_another_response_type_gets_the_first_answer(call_api, ticket_fields):
    first = call_api(ticket_fields, key=KEY)
    second = call_api({**ticket_fields, "responsetype": "xml"}, key=KEY)

    assert second.data == first.data
    assert second.mimetype == "application/json"
    assert ticket_count() == 1


def test_the_key_may_come_as_a_form_field(call_api, ticket_fields):
    first = call_api({**ticket_fields, "idempotencykey": KEY})
    from_header = call_api(ticket_fields, key=KEY)

    assert from_header.data == first.data
    assert ticket_count() == 1


def test_the_same_key_with_another_request_is_refused(call_api, ticket_fields):
    call_api(ticket_fields, key=KEY)

    refused = call_api({**ticket_fields, "subject": "Another subject"}, key=KEY)

    assert refused.status_code == 422
    assert read_answer(refused, "json") == {"result": "error", "message": KEY_REUSED}
    assert ticket_count() == 1


def test_another_credential_with_the_same_key_opens_its_own_ticket(make, call_api, ticket_fields):
    first = call_api(ticket_fields, key=KEY)
    second = call_api(ticket_fields, key=KEY, as_credential=make.api_credential())

    assert read_answer(second, "json")["tid"] != read_answer(first, "json")["tid"]
    assert ticket_count() == 2


def test_a_key_older_than_a_day_opens_a_new_ticket(call_api, ticket_fields):
    first = call_api(ticket_fields, key=KEY)
    db.session.execute(
        update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=24, minutes=1))
    )
    db.session.commit()

    again = call_api(ticket_fields, key=KEY)

    assert read_answer(again, "json")["tid"] != read_answer(first, "json")["tid"]
    assert ticket_count() == 2
    assert key_count() == 1


def test_a_key_a_little_under_a_day_old_still_answers_the_first_time(call_api, ticket_fields):
    first = call_api(ticket_fields, key=KEY)
    db.session.execute(
        update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=23, minutes=59))
    )
    db.session.commit()

    assert call_api(ticket_fields, key=KEY).data == first.data
    assert ticket_count() == 1


def test_a_refused_request_leaves_its_key_unused(call_api, ticket_fields):
    refused = call_api({**ticket_fields, "subject": ""}, key=KEY)
    assert read_answer(refused, "json")["result"] == "error"

    corrected = call_api(ticket_fields, key=KEY)

    assert read_answer(corrected, "json")["result"] == "success"
    assert ticket_count() == 1


def test_uploaded_files_are_part_of_the_request(call_api, ticket_fields):
    def with_file(data: bytes) -> dict:
        return {**ticket_fields, "attachments[]": (io.BytesIO(data), "log.txt")}

    first = call_api(with_file(b"line 1\n"), key=KEY, content_type="multipart/form-data")
    same = call_api(with_file(b"line 1\n"), key=KEY, content_type="multipart/form-data")
    other = call_api(with_file(b"line 2\n"), key=KEY, content_type="multipart/form-data")

    assert same.data == first.data
    assert other.status_code == 422
    assert ticket_count() == 1


def test_credentials_are_not_part_of_the_request(app, client, credential, ticket_fields):
    identity, secret = credential
    app.config["API_ACCESS_KEY"] = "the-access-key"
    first = client.post(
        "/includes/api.php",
        data={"identifier": identity.identifier, "secret": secret, **ticket_fields},
        headers={"Idempotency-Key": KEY},
    )
    with_access_key = client.post(
        "/includes/api.php",
        data={
            "username": identity.identifier,
            "password": secret,
            "accesskey": "the-access-key",
            **ticket_fields,
        },
        headers={"Idempotency-Key": KEY},
    )

    assert with_access_key.data == first.data
    assert ticket_count() == 1


def test_a_key_over_255_characters_is_refused(call_api, ticket_fields):
    refused = call_api(ticket_fields, key="k" * 256)

    assert refused.status_code == 400
    assert read_answer(refused, "json") == {"result": "error", "message": KEY_TOO_LONG}
    assert ticket_count() == 0
    assert read_answer(call_api(ticket_fields, key="k" * 255), "json")["result"] == "success"


def test_keys_differing_only_in_case_are_different_keys(call_api, ticket_fields):
    call_api(ticket_fields, key="Retry-A")
    call_api(ticket_fields, key="retry-a")

    assert ticket_count() == 2


def test_without_a_key_every_call_opens_a_ticket(call_api, ticket_fields):
    call_api(ticket_fields)
    call_api(ticket_fields)

    assert ticket_count() == 2
    assert key_count() == 0


def test_the_stored_answer_is_the_answer_sent(call_api, ticket_fields):
    first = call_api({**ticket_fields, "responsetype": "xml"}, key=KEY)

    record = db.session.scalar(select(IdempotencyKey))
    assert (record.response_status, record.response_content_type) == (200, first.content_type)
    assert record.response_body.encode() == first.data


def test_expired_keys_can_be_deleted(call_api, ticket_fields):
    call_api(ticket_fields, key="old")
    call_api(ticket_fields, key="new")
    db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key_sha256 == idempotency.key_digest("old"))
        .values(created_at=utcnow() - timedelta(days=2))
    )
    db.session.commit()

    deleted = idempotency.delete_expired(db.session)
    db.session.commit()

    assert deleted == 1
    assert key_count() == 1
    assert ticket_count() == 2


def test_the_document_describes_the_key_and_its_refusals(client):
    document = json.loads(client.get("/includes/api.openapi.json").data)
    post = document["paths"]["/includes/api.php"]["post"]

    assert [p["name"] for p in post["parameters"]] == ["Idempotency-Key"]
    assert {"422", "429"} <= set(post["responses"])


def test_two_calls_with_one_key_at_the_same_moment_open_one_ticket(app, credential, ticket_fields):
    identity, secret = credential
    data = {"identifier": identity.identifier, "secret": secret, **ticket_fields}
    barrier = threading.Barrier(2)
    bodies: list[bytes] = []
    failures: list[BaseException] = []

    def call() -> None:
        try:
            with app.app_context():
                integration = app.test_client()
                barrier.wait()
                response = integration.post(API_URL, data=data, headers={"Idempotency-Key": KEY})
                bodies.append(response.data)
        except BaseException as error:  # collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]
    assert json.loads(bodies[0])["result"] == "success"
    assert ticket_count() == 1
