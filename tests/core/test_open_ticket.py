"""OpenTicket as the spec and WHMCS define it: parameters, error strings and their order."""

import base64
import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import phpserialize
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import Attachment, CustomFieldValue, Ticket, TicketStatus
from portal.tickets import OpenTicketError, OpenTicketRequest, errors, open_ticket
from tests.conftest import stored_files
from tests.core.conftest import encode_attachments, refusal


def ticket_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))


def test_a_guest_ticket_answers_id_tid_and_access_code(open_, guest_request):
    opened = open_(guest_request())

    ticket = db.session.get(Ticket, opened.id)
    assert (ticket.tid, ticket.access_code) == (opened.tid, opened.access_code)
    assert (ticket.name, ticket.email, ticket.client_id) == ("Gus Guest", "gus@example.com", None)
    assert ticket.status == TicketStatus.OPEN
    assert ticket.message == "It is *really* on fire."


class TestClientRequester:
    def test_without_user_or_contact_the_account_owner_is_the_requestor(
        self, make, open_, guest_request
    ):
        account = make.client_account()
        opened = open_(guest_request(clientid=str(account.id), name="", email=""))
        ticket = opened
        assert ticket.client_id == account.id
        assert ticket.user == account.owner
        assert (ticket.name, ticket.email) == (account.owner.name, account.owner.email)

    def test_name_and_email_are_ignored_for_a_client(self, make, open_, guest_request):
        account = make.client_account()
        ticket = open_(guest_request(clientid=account.id, name="X", email="not-an-email"))
        assert ticket.email == account.owner.email

    def test_a_user_of_the_account_is_the_requestor(self, make, open_, guest_request):
        account = make.client_account()
        other_user = make.user()
        make.member(account, other_user)
        ticket = open_(guest_request(clientid=account.id, userid=str(other_user.id)))
        assert (ticket.user_id, ticket.email) == (other_user.id, other_user.email)

    def test_a_contact_is_the_requestor_and_copied_in(self, make, open_, guest_request):
        account = make.client_account()
        contact = make.contact(account)
        ticket = open_(guest_request(clientid=account.id, contactid=contact.id))
        assert (ticket.contact_id, ticket.user_id) == (contact.id, None)
        assert (ticket.email, ticket.cc) == (contact.email, contact.email)

    def test_userid_wins_over_contactid(self, make, open_, guest_request):
        account = make.client_account()
        contact = make.contact(account)
        owner = account.owner
        ticket = open_(guest_request(clientid=account.id, userid=owner.id, contactid=contact.id))
        assert (ticket.user_id, ticket.contact_id) == (owner.id, None)

    def test_an_account_without_users_uses_its_own_name_and_email(self, make, open_, guest_request):
        account = make.client_account(with_owner=False)
        ticket = open_(guest_request(clientid=account.id))
        assert (ticket.user_id, ticket.email) == (None, account.email)


def _other_accounts_user(make, account):
    return make.client_account().owner.id


def _other_accounts_contact(make, account):
    return make.contact(make.client_account()).id


def _other_accounts_service(make, account):
    return make.service(make.client_account()).id


def _other_accounts_domain(make, account):
    return make.domain(make.client_account()).id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"clientid": "999999"}, errors.CLIENT_NOT_FOUND),
        ({"clientid": "99999999999999999999"}, errors.CLIENT_NOT_FOUND),
        ({"clientid": "OWN", "userid": "999999"}, errors.USER_NOT_FOUND),
        ({"clientid": "OWN", "userid": _other_accounts_user}, errors.USER_NOT_FOUND),
        ({"clientid": "OWN", "contactid": "999999"}, errors.CONTACT_NOT_FOUND),
        ({"clientid": "OWN", "contactid": _other_accounts_contact}, errors.CONTACT_NOT_FOUND),
        ({"name": ""}, errors.NAME_AND_EMAIL_REQUIRED),
        ({"email": ""}, errors.NAME_AND_EMAIL_REQUIRED),
        ({"name": "   ", "email": None}, errors.NAME_AND_EMAIL_REQUIRED),
        ({"email": "not an email"}, errors.EMAIL_INVALID),
        ({"email": "gus@"}, errors.EMAIL_INVALID),
        # An ASCII local part, as PHP's FILTER_VALIDATE_EMAIL wants; the domain may be IDN.
        ({"email": "jörg@example.com"}, errors.EMAIL_INVALID),
        ({"deptid": "999999"}, errors.DEPARTMENT_NOT_FOUND),
        ({"deptid": None}, errors.DEPARTMENT_NOT_FOUND),
        ({"deptid": "abc"}, errors.DEPARTMENT_NOT_FOUND),
        ({"subject": ""}, errors.SUBJECT_REQUIRED),
        ({"subject": " \t\n"}, errors.SUBJECT_REQUIRED),
        ({"subject": None}, errors.SUBJECT_REQUIRED),
        ({"message": ""}, errors.MESSAGE_REQUIRED),
        ({"message": "\n\n  "}, errors.MESSAGE_REQUIRED),
        ({"created": "yesterday"}, errors.INVALID_DATE_FORMAT),
        ({"created": "2024-13-01 10:00:00"}, errors.INVALID_DATE_FORMAT),
        ({"created": "2024-01-01 25:00:00"}, errors.INVALID_DATE_FORMAT),
        ({"created": "01/02/2024"}, errors.INVALID_DATE_FORMAT),
        ({"created": "2999-01-01 00:00:00"}, errors.DATE_IN_FUTURE),
        ({"clientid": "OWN", "serviceid": "999999"}, errors.SERVICE_NOT_FOUND),
        ({"clientid": "OWN", "serviceid": _other_accounts_service}, errors.SERVICE_NOT_FOUND),
        ({"clientid": "OWN", "domainid": "999999"}, errors.DOMAIN_NOT_FOUND),
        ({"clientid": "OWN", "domainid": _other_accounts_domain}, errors.DOMAIN_NOT_FOUND),
        ({"serviceid": "OWN_SERVICE"}, errors.SERVICE_NOT_FOUND),
        ({"domainid": "OWN_DOMAIN"}, errors.DOMAIN_NOT_FOUND),
    ],
)
def test_each_spec_error(make, open_, guest_request, changes, message):
    account = make.client_account()
    own = {
        "OWN": account.id,
        "OWN_SERVICE": make.service(account).id,
        "OWN_DOMAIN": make.domain(account).id,
    }
    resolved = {}
    for key, value in changes.items():
        if callable(value):
            value = value(make, account)
        resolved[key] = own.get(value, value) if isinstance(value, str) else value

    assert refusal(open_, guest_request(**resolved)) == message
    assert ticket_count() == 0


def test_errors_come_in_whmcs_checking_order(open_, make):
    everything_wrong = OpenTicketRequest(
        clientid="999999",
        deptid="999999",
        subject="",
        message="",
        created="nonsense",
        serviceid="999999",
        attachments=encode_attachments(("evil.php", b"<?php")),
    )
    with pytest.raises(OpenTicketError) as refused:
        open_(everything_wrong)
    assert [e.message for e in refused.value.errors] == [
        errors.CLIENT_NOT_FOUND,
        errors.DEPARTMENT_NOT_FOUND,
        errors.SUBJECT_REQUIRED,
        errors.MESSAGE_REQUIRED,
        errors.INVALID_DATE_FORMAT,
        errors.SERVICE_NOT_FOUND,
        "The file evil.php is not allowed: that file type is never accepted",
    ]
    assert refused.value.message == errors.CLIENT_NOT_FOUND


def test_each_error_names_the_fields_it_concerns(open_, guest_request):
    with pytest.raises(OpenTicketError) as refused:
        open_(guest_request(name="", email="", subject=""))
    assert [(e.fields, e.message) for e in refused.value.errors] == [
        (("name", "email"), errors.NAME_AND_EMAIL_REQUIRED),
        (("subject",), errors.SUBJECT_REQUIRED),
    ]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("High", "High"),
        ("high", "High"),
        ("MEDIUM", "Medium"),
        ("Low", "Low"),
        (None, "Low"),
        ("", "Low"),
        ("Urgent", "Low"),
    ],
)
def test_priority_is_case_insensitive_and_defaults_to_low(open_, guest_request, given, stored):
    assert open_(guest_request(priority=given)).priority == stored


class TestCreated:
    @pytest.mark.parametrize(
        ("given", "expected_utc"),
        [
            ("2024-03-01 10:20:30", datetime(2024, 3, 1, 10, 20, 30)),
            ("2024-03-01T10:20:30", datetime(2024, 3, 1, 10, 20, 30)),
            ("2024-03-01T10:20:30Z", datetime(2024, 3, 1, 10, 20, 30)),
            ("2024-03-01T12:20:30+02:00", datetime(2024, 3, 1, 10, 20, 30)),
            ("2024-03-01", datetime(2024, 3, 1)),
        ],
    )
    def test_iso_8601_and_whmcs_format(self, open_, guest_request, given, expected_utc):
        ticket = open_(guest_request(created=given))
        assert ticket.created_at == expected_utc
        assert ticket.last_reply_at == expected_utc

    def test_naive_times_are_in_the_configured_time_zone(self, open_, guest_request, settings):
        berlin = dataclasses.replace(settings, timezone=ZoneInfo("Europe/Berlin"))
        opened = open_ticket(db.session, guest_request(created="2024-07-01 12:00:00"), berlin)
        assert opened.created_at == datetime(2024, 7, 1, 10, 0, 0)

    def test_missing_created_is_now(self, open_, guest_request):
        before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        ticket = open_(guest_request())
        assert before - timedelta(seconds=1) <= ticket.created_at

    def test_a_minute_ago_is_accepted(self, open_, guest_request):
        a_minute_ago = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        assert open_(guest_request(created=a_minute_ago))

    def test_a_minute_ahead_is_refused(self, open_, guest_request):
        ahead = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
        assert refusal(open_, guest_request(created=ahead)) == errors.DATE_IN_FUTURE


class TestRelatedRecord:
    def test_a_service_of_the_client(self, make, open_, guest_request):
        account = make.client_account()
        service = make.service(account)
        ticket = open_(guest_request(clientid=account.id, serviceid=str(service.id)))
        assert (ticket.service_id, ticket.domain_id) == (service.id, None)

    def test_a_domain_of_the_client(self, make, open_, guest_request):
        account = make.client_account()
        domain = make.domain(account)
        ticket = open_(guest_request(clientid=account.id, domainid=domain.id))
        assert (ticket.service_id, ticket.domain_id) == (None, domain.id)

    def test_a_service_named_wins_over_a_domain(self, make, open_, guest_request):
        account = make.client_account()
        service, domain = make.service(account), make.domain(account)
        ticket = open_(guest_request(clientid=account.id, serviceid=service.id, domainid=domain.id))
        assert (ticket.service_id, ticket.domain_id) == (service.id, None)


class TestFlags:
    @pytest.mark.parametrize(
        ("department_flag", "given", "stored"),
        [
            (True, None, True),
            (False, None, False),
            (True, False, False),
            (False, True, True),
        ],
    )
    def test_prevent_client_closure_is_given_or_inherited(
        self, make, open_, guest_request, department_flag, given, stored
    ):
        department = make.department(prevent_client_closure=department_flag)
        ticket = open_(guest_request(deptid=department.id, prevent_client_closure=given))
        assert ticket.prevent_client_closure is stored

    @pytest.mark.parametrize(("markdown", "editor"), [(True, "markdown"), (False, "plain")])
    def test_markdown_sets_the_editor(self, open_, guest_request, markdown, editor):
        assert open_(guest_request(markdown=markdown)).editor == editor

    def test_noemail_is_recorded(self, open_, guest_request):
        assert open_(guest_request(noemail=True)).email_suppressed is True
        assert open_(guest_request()).email_suppressed is False

    def test_admin_makes_the_acting_staff_member_the_opener(self, make, open_, guest_request):
        staff = make.staff()
        assert open_(guest_request(admin=True), acting_staff=staff).opened_by == staff
        assert open_(guest_request(admin=False), acting_staff=staff).opened_by is None

    def test_hidden_and_clients_only_departments_are_accepted(self, make, open_, guest_request):
        for department in (make.department(hidden=True), make.department(clients_only=True)):
            assert open_(guest_request(deptid=department.id)).department == department


def test_unicode_and_emoji_round_trip(open_, guest_request):
    """Run on every database in CI: MariaDB needs utf8mb4 for this."""
    text = "Ünïcödé 你好 🔥🧯 — ok"
    opened = open_(guest_request(subject=text, message=text * 3, name=f"Zoë {text}"))
    db.session.expire_all()
    ticket = db.session.get(Ticket, opened.id)
    assert (ticket.subject, ticket.message, ticket.name) == (text, text * 3, f"Zoë {text}")


@pytest.mark.parametrize(
    ("field", "limit", "message"),
    [
        ("subject", 255, "Subject is too long (at most 255 characters)"),
        ("name", 200, "Name is too long (at most 200 characters)"),
        ("message", 100_000, "Message is too long (at most 100,000 characters)"),
    ],
)
def test_lengths_are_limited_before_the_database_sees_them(
    open_, guest_request, field, limit, message
):
    assert open_(guest_request(**{field: "x" * limit}))
    assert refusal(open_, guest_request(**{field: "x" * (limit + 1)})) == message


def test_an_overlong_email_is_invalid(open_, guest_request):
    long_email = "a" * 250 + "@example.com"
    assert refusal(open_, guest_request(email=long_email)) == errors.EMAIL_INVALID


def test_nothing_is_left_when_any_part_fails(open_, guest_request, attachments_dir):
    good_and_bad = encode_attachments(("notes.txt", b"fine"), ("run.cgi", b"#!/bin/sh"))
    refusal(open_, guest_request(attachments=good_and_bad))
    assert ticket_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert stored_files(attachments_dir) == []


def test_a_failure_after_validation_leaves_no_row_and_no_file(
    open_, guest_request, settings, attachments_dir, monkeypatch
):
    def database_went_away(session, flush_context, instances):
        raise RuntimeError("database went away")

    event.listen(Session, "before_flush", database_went_away)
    try:
        with pytest.raises(RuntimeError):
            open_ticket(
                db.session,
                guest_request(attachments=encode_attachments(("notes.txt", b"fine"))),
                settings,
            )
    finally:
        event.remove(Session, "before_flush", database_went_away)
    db.session.rollback()
    assert ticket_count() == 0
    assert stored_files(attachments_dir) == []


def test_custom_fields_are_stored_for_the_departments_fields(make, open_, guest_request):
    department = make.department()
    first = make.custom_field(department)
    second = make.custom_field(department)
    foreign = make.custom_field(make.department())
    values = {first.id: "alpha", second.id: "🔥", foreign.id: "ignored"}
    encoded = base64.b64encode(phpserialize.dumps(values)).decode()

    ticket = open_(guest_request(deptid=department.id, customfields=encoded))
    stored = db.session.execute(
        select(CustomFieldValue.field_id, CustomFieldValue.value).where(
            CustomFieldValue.ticket_id == ticket.id
        )
    ).all()
    assert sorted(stored) == sorted([(first.id, "alpha"), (second.id, "🔥")])


def test_the_longest_user_name_fits_the_ticket(make, open_, guest_request):
    account = make.client_account(owner=make.user(first_name="F" * 100, last_name="L" * 100))
    ticket = open_(guest_request(clientid=account.id))
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).name == "F" * 100 + " " + "L" * 100
