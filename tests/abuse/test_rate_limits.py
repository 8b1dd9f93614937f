"""Rate limits: guests' tickets per address and email, failed log-ins, refused API calls."""

import io

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.api.views import TOO_MANY_FAILURES
from portal.extensions import db
from portal.models import TicketReply
from portal.tickets import OpenTicketRequest, TicketSettings, open_ticket
from tests.abuse.conftest import OTHER_ADDRESS, hidden_value, ticket_count
from tests.api.api_calls import API_URL, read_answer
from tests.factories import PASSWORD

THIRD_ADDRESS = "203.0.113.9"


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_GUEST_TICKETS_PER_IP": "2 per minute",
        "RATELIMIT_GUEST_TICKETS_PER_EMAIL": "3 per hour",
        "RATELIMIT_LOGIN_FAILURES_PER_IP": "5 per minute",
        "RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT_AND_IP": "3 per minute",
        "RATELIMIT_API_FAILURES_PER_IP": "5 per minute",
        "RATELIMIT_API_FAILURES_PER_IDENTIFIER": "3 per minute",
        "RATELIMIT_PREVIEWS_PER_IP": "3 per minute",
        "RATELIMIT_CLIENT_REPLIES_PER_IP": "2 per minute",
        "API_ALLOWED_IPS": f"127.0.0.1,{OTHER_ADDRESS},{THIRD_ADDRESS}",
    }


# Markdown previews


def test_previews_are_limited_per_address(client):
    answers = [client.post("/markdown-preview", data={"message": "*hi*"}) for _ in range(4)]
    elsewhere = client.post(
        "/markdown-preview", data={"message": "*hi*"}, **from_address(OTHER_ADDRESS)
    )

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert "<em>hi</em>" in answers[0].text
    assert elsewhere.status_code == 200


# Replies on the ticket page


def test_replies_are_limited_per_address_and_the_reply_is_kept(client, department):
    ticket = open_ticket(
        db.session,
        OpenTicketRequest(
            deptid=department.id, subject="S", message="M", name="Gus", email="g@example.com"
        ),
        TicketSettings.from_config(client.application.config),
    )
    db.session.commit()
    view = f"/viewticket?tid={ticket.tid}&c={ticket.access_code}"

    def reply(message):
        draft = hidden_value(client.get(view).text, "draft")
        data = {"tid": ticket.tid, "c": ticket.access_code, "draft": draft, "message": message}
        return client.post("/viewticket/reply", data=data)

    answers = [reply("one"), reply("two"), reply("three is kept")]

    assert [answer.status_code for answer in answers] == [303, 303, 429]
    assert "Too many replies have been sent from your network" in answers[2].text
    assert "three is kept" in answers[2].text
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(TicketReply)) == 2


# Guest tickets


def test_guest_tickets_are_limited_per_address_and_the_form_is_kept(client, guest_form):
    for n in range(2):
        assert (
            client.post("/submitticket", data=guest_form(email=f"g{n}@example.com")).status_code
            == 303
        )

    refused = client.post(
        "/submitticket", data=guest_form(email="g3@example.com", subject="Third ticket")
    )

    assert refused.status_code == 429
    assert "Too many tickets have been sent from your network" in refused.text
    assert 'class="error-summary"' in refused.text
    assert 'value="Third ticket"' in refused.text
    assert 'value="g3@example.com"' in refused.text
    assert ticket_count() == 2


def test_another_address_may_still_send(app, client, guest_form):
    for n in range(2):
        client.post("/submitticket", data=guest_form(email=f"g{n}@example.com"))

    response = client.post(
        "/submitticket", data=guest_form(email="g3@example.com"), **from_address(OTHER_ADDRESS)
    )

    assert response.status_code == 303
    assert ticket_count() == 3


def test_guest_tickets_are_limited_per_email_address_from_any_address(client, guest_form):
    addresses = ["127.0.0.1", OTHER_ADDRESS, THIRD_ADDRESS]
    for address in addresses:
        response = client.post(
            "/submitticket", data=guest_form(email="Flood@Example.com"), **from_address(address)
        )
        assert response.status_code == 303

    refused = client.post(
        "/submitticket", data=guest_form(email="flood@example.com"), **from_address("192.0.2.1")
    )

    assert refused.status_code == 429
    assert "Too many tickets have been sent for this email address" in refused.text
    assert 'id="field-email-error"' in refused.text
    assert ticket_count() == 3


def test_a_refused_guest_keeps_the_chosen_files(client, guest_form):
    for n in range(2):
        client.post("/submitticket", data=guest_form(email=f"g{n}@example.com"))

    refused = client.post(
        "/submitticket",
        data={**guest_form(email="g3@example.com"), "attachments": (io.BytesIO(b"log"), "log.txt")},
        content_type="multipart/form-data",
    )

    assert refused.status_code == 429
    assert "Files already attached" in refused.text
    assert "log.txt" in refused.text


def test_forms_refused_for_what_they_say_do_not_count(client, guest_form):
    for _ in range(5):
        refused = client.post("/submitticket", data=guest_form(subject=""))
        assert refused.status_code == 422 and "You did not enter a subject" in refused.text
    assert ticket_count() == 0

    opened = [client.post("/submitticket", data=guest_form()).status_code for _ in range(2)]
    same_email_elsewhere = client.post(
        "/submitticket", data=guest_form(), **from_address(OTHER_ADDRESS)
    )

    assert opened == [303, 303]
    assert same_email_elsewhere.status_code == 303
    assert client.post("/submitticket", data=guest_form()).status_code == 429
    assert ticket_count() == 3


def test_previews_do_not_count(client, guest_form):
    for _ in range(5):
        assert client.post("/submitticket", data=guest_form(action="preview")).status_code == 200

    assert client.post("/submitticket", data=guest_form()).status_code == 303


def test_a_double_click_counts_once(client, guest_form):
    form = guest_form()
    for _ in range(4):
        assert client.post("/submitticket", data=form).status_code == 303

    assert client.post("/submitticket", data=guest_form()).status_code == 303
    assert ticket_count() == 2


def test_rate_limits_can_be_switched_off(app_config, department):
    switched_off = create_app({**app_config, "RATELIMIT_ENABLED": False})
    browser = switched_off.test_client()
    form = {
        "deptid": str(department.id),
        "name": "Gwen Guest",
        "subject": "Many tickets",
        "message": "One after the other.",
        "action": "submit",
    }

    for n in range(4):
        response = browser.post("/submitticket", data={**form, "email": f"g{n}@example.com"})
        assert response.status_code == 303
    assert ticket_count() == 4
    with switched_off.app_context():
        db.engine.dispose()


def test_the_storage_is_named_by_an_environment_variable(monkeypatch, app_config):
    monkeypatch.setenv("PORTAL_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")

    from_environment = create_app(app_config)

    assert from_environment.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"
    limiter = from_environment.extensions["portal.rate_limiter"]
    assert type(limiter.storage).__name__ == "RedisStorage"
    with from_environment.app_context():
        db.engine.dispose()


# Client log-ins


def test_failed_client_log_ins_are_limited_per_account_from_one_address(client, make):
    user = make.user()
    for _ in range(3):
        assert (
            client.post("/login", data={"email": user.email, "password": "wrong"}).status_code
            == 401
        )

    # Even the right password from the failing address: the account is not guessed further.
    refused = client.post("/login", data={"email": user.email, "password": PASSWORD})

    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.text
    assert f'value="{user.email}"' in refused.text


def test_a_strangers_guesses_do_not_lock_the_owner_out(client, make):
    user = make.user()
    for n in range(3):
        stranger = from_address(f"192.0.2.{10 + n}")
        for _ in range(3):
            wrong = {"email": user.email, "password": "wrong"}
            assert client.post("/login", data=wrong, **stranger).status_code in (401, 429)

    owner = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, **from_address(OTHER_ADDRESS)
    )

    assert owner.status_code == 303


def test_failed_client_log_ins_are_limited_per_address(client, make):
    user = make.user()
    for n in range(5):
        client.post("/login", data={"email": f"nobody{n}@example.com", "password": "wrong"})

    refused = client.post("/login", data={"email": user.email, "password": PASSWORD})
    elsewhere = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, **from_address(OTHER_ADDRESS)
    )

    assert refused.status_code == 429
    assert elsewhere.status_code == 303


def test_successful_client_log_ins_do_not_count(app, make):
    user = make.user()
    for _ in range(6):
        browser = app.test_client()
        assert (
            browser.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 303
        )


# Staff sign-ins


def test_failed_staff_sign_ins_are_limited_per_username_from_one_address(client, make):
    member = make.staff()
    for _ in range(3):
        response = client.post("/staff/login", data={"username": member.username, "password": "x"})
        assert response.status_code == 401

    refused = client.post("/staff/login", data={"username": member.username, "password": PASSWORD})
    elsewhere = client.post(
        "/staff/login",
        data={"username": member.username, "password": PASSWORD},
        **from_address(OTHER_ADDRESS),
    )

    assert refused.status_code == 429
    assert elsewhere.status_code == 302
    assert "Too many failed sign-in attempts" in refused.text
    assert f'value="{member.username}"' in refused.text


def test_failed_staff_sign_ins_are_limited_per_address(client, make):
    member = make.staff()
    for n in range(5):
        client.post("/staff/login", data={"username": f"nobody{n}", "password": "x"})

    refused = client.post("/staff/login", data={"username": member.username, "password": PASSWORD})
    elsewhere = client.post(
        "/staff/login",
        data={"username": member.username, "password": PASSWORD},
        **from_address(OTHER_ADDRESS),
    )

    assert refused.status_code == 429
    assert elsewhere.status_code == 302


# The API


def api_call(client, identifier: str, secret: str, fields: dict, address: str = "127.0.0.1"):
    data = {"identifier": identifier, "secret": secret, **fields}
    return client.post(API_URL, data=data, **from_address(address))


def test_refused_api_calls_are_limited_per_identifier(client, credential, ticket_fields):
    identity, secret = credential
    for _ in range(3):
        assert api_call(client, identity.identifier, "wrong", ticket_fields).status_code == 403

    refused = api_call(client, identity.identifier, secret, ticket_fields, OTHER_ADDRESS)

    assert refused.status_code == 429
    answer = read_answer(refused, "json")
    assert answer["result"] == "error"
    assert answer["message"] == TOO_MANY_FAILURES.format(seconds=refused.headers["Retry-After"])
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert ticket_count() == 0


def test_refused_api_calls_are_limited_per_address(client, make, credential, ticket_fields):
    identity, secret = credential
    for n in range(5):
        api_call(client, f"nobody-{n}", "wrong", ticket_fields)

    refused = api_call(client, identity.identifier, secret, ticket_fields)
    elsewhere = api_call(client, identity.identifier, secret, ticket_fields, OTHER_ADDRESS)

    assert refused.status_code == 429
    assert read_answer(elsewhere, "json")["result"] == "success"


def test_a_wrong_access_key_counts_as_a_refusal(client, credential, ticket_fields):
    identity, secret = credential
    for _ in range(3):
        fields = {**ticket_fields, "accesskey": "guess"}
        assert api_call(client, identity.identifier, secret, fields).status_code == 403

    assert api_call(client, identity.identifier, secret, ticket_fields).status_code == 429


def test_the_api_refusal_comes_in_the_response_type_asked_for(client, credential, ticket_fields):
    identity, _ = credential
    for _ in range(3):
        api_call(client, identity.identifier, "wrong", ticket_fields)

    refused = api_call(
        client, identity.identifier, "wrong", {**ticket_fields, "responsetype": "xml"}
    )

    assert refused.status_code == 429
    assert read_answer(refused, "xml")["result"] == "error"


def test_successful_api_calls_do_not_count(client, credential, ticket_fields):
    identity, secret = credential
    for _ in range(6):
        response = api_call(client, identity.identifier, secret, ticket_fields)
        assert read_answer(response, "json")["result"] == "success"
