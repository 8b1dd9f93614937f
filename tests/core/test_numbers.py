"""Ticket numbers from WHMCS's mask codes, unique, and an error when the mask is used up."""

import dataclasses
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Ticket
from portal.tickets import OpenTicketError, errors, numbers, open_ticket

NOW = datetime(2026, 11, 28, 9, 30)


@pytest.mark.parametrize(
    ("mask", "pattern"),
    [
        ("%A%A%A-%n%n%n%n%n%n", r"[A-Z]{3}-\d{6}"),
        ("%n%n%n%n%n%n", r"\d{6}"),
        ("%a%a-%A", r"[a-z]{2}-[A-Z]"),
        ("T%y%m%d-%n", r"T20261128-\d"),
        ("#%i", r"#42"),
        ("%Q%n", r"\d"),  # unknown codes produce nothing
        ("100%", r"100%"),  # a lone % at the end is literal
    ],
)
def test_mask_codes(mask, pattern):
    assert re.fullmatch(pattern, numbers.render_mask(mask, NOW, ticket_id=42))


def test_access_codes_are_eight_letters_and_digits():
    codes = {numbers.new_access_code() for _ in range(200)}
    assert all(re.fullmatch(r"[A-Za-z0-9]{8}", code) for code in codes)
    assert len(codes) == 200


def test_the_default_mask_is_whmcs_default(open_, guest_request):
    assert re.fullmatch(r"[A-Z]{3}-\d{6}", open_(guest_request()).tid)


def test_a_one_digit_mask_fills_up_and_then_refuses(guest_request, settings):
    one_digit = dataclasses.replace(settings, mask="%n")
    tids = set()
    for _ in range(10):
        tids.add(open_ticket(db.session, guest_request(), one_digit).tid)
        db.session.commit()
    assert tids == set("0123456789")

    with pytest.raises(OpenTicketError) as refused:
        open_ticket(db.session, guest_request(), one_digit)
    assert refused.value.message == errors.UNABLE_TO_GENERATE_NUMBER
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 10


def test_mask_exhaustion_leaves_nothing_in_the_session(guest_request, settings):
    fixed = dataclasses.replace(settings, mask="FIXED")
    open_ticket(db.session, guest_request(), fixed)
    db.session.commit()
    with pytest.raises(OpenTicketError):
        open_ticket(db.session, guest_request(), fixed)
    # The caller may still commit other work: the refused ticket must not be in the session.
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_the_id_code_uses_the_new_rows_id(guest_request, settings):
    by_id = dataclasses.replace(settings, mask="T-%i")
    opened = open_ticket(db.session, guest_request(), by_id)
    db.session.commit()
    assert opened.tid == f"T-{opened.id}"
    assert db.session.get(Ticket, opened.id).tid == opened.tid


def test_exhausted_id_mask_removes_its_placeholder_row(guest_request, settings):
    literal = dataclasses.replace(settings, mask="X%i")
    first = open_ticket(db.session, guest_request(), literal)
    db.session.commit()
    assert first.tid == f"X{first.id}"
    # Occupy the next id's number so that the %i candidate is taken.
    db.session.execute(
        Ticket.__table__.update().where(Ticket.id == first.id).values(tid=f"X{first.id + 1}")
    )
    db.session.commit()
    with pytest.raises(OpenTicketError) as refused:
        open_ticket(db.session, guest_request(), literal)
    assert refused.value.message == errors.UNABLE_TO_GENERATE_NUMBER
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_tids_are_unique_under_a_small_mask(guest_request, settings):
    two_digits = dataclasses.replace(settings, mask="%n%n")
    tids = [open_ticket(db.session, guest_request(), two_digits).tid for _ in range(60)]
    db.session.commit()
    assert len(set(tids)) == 60
