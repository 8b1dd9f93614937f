"""What keeps robots and floods off the guest form: a honeypot, a minimum time, rate limits."""

import time
from dataclasses import dataclass

from flask import current_app, request
from itsdangerous import BadData

from portal.client.forms import ComposeForm
from portal.extensions import RateLimit, wait_in_words
from portal.signing import serializer
from portal.tickets import FieldError

HONEYPOT_FILLED = (
    "The form looked like spam because the field marked “leave this field empty” was filled "
    "in. It is empty now; please send the form again."
)
TOO_FAST = (
    "The form was sent sooner than a person can fill it in, as spam robots do. Please check "
    "what you typed and send it again."
)
TOO_MANY_FROM_ADDRESS = (
    "Too many tickets have been sent from your network in a short time. Please wait {wait} "
    "and send the form again; what you typed is kept."
)
TOO_MANY_FOR_EMAIL = (
    "Too many tickets have been sent for this email address in a short time. Please wait "
    "{wait} and send the form again; what you typed is kept."
)
GUEST_TICKETS_PER_IP = RateLimit("RATELIMIT_GUEST_TICKETS_PER_IP")
GUEST_TICKETS_PER_EMAIL = RateLimit("RATELIMIT_GUEST_TICKETS_PER_EMAIL")
_SHOWN_PURPOSE = "portal.guest-form-shown"


@dataclass(frozen=True)
class GuestRefusal:
    errors: list[FieldError]
    status: int


def shown_stamp(draft: str, shown_at: float | None = None) -> str:
    """A signed note, for a hidden field, of when the form for this draft was shown."""
    return serializer(_SHOWN_PURPOSE).dumps([draft, time.time() if shown_at is None else shown_at])


def shown_at(stamp: str, draft: str | None) -> float | None:
    """When the form was shown, if the stamp is genuine and was made for this draft."""
    try:
        signed_draft, moment = serializer(_SHOWN_PURPOSE).loads(stamp)
    except (BadData, TypeError, ValueError):
        return None
    if signed_draft != draft or not isinstance(moment, int | float):
        return None
    return float(moment)


def restamp_if_unusable(form: ComposeForm) -> float:
    """A form shown again keeps its first stamp, so the wait is not started over; a missing or
    forged one is replaced, so a person can send the form after the minimum time.

    Returns when the form was shown, as its stamp now says, for guest_refusal().
    """
    moment = shown_at(form.shown, form.draft)
    if moment is None:
        moment = time.time()
        form.shown = shown_stamp(form.draft or "", moment)
    return moment


def guest_refusal(form: ComposeForm, shown: float) -> GuestRefusal | None:
    """Why a guest's submission, shown at `shown`, is refused before OpenTicket, or None.

    The limits are only looked at here: a ticket counts towards them once it is opened
    (count_guest_ticket), so a form refused for an empty subject or a spam trap costs nothing.
    """
    if form.honeypot:
        return GuestRefusal([FieldError((), HONEYPOT_FILLED)], 422)
    minimum = float(current_app.config["GUEST_FORM_MIN_SECONDS"])
    if minimum > 0 and time.time() - shown < minimum:
        return GuestRefusal([FieldError((), TOO_FAST)], 422)
    address = request.remote_addr or ""
    if not GUEST_TICKETS_PER_IP.allows(address):
        wait = wait_in_words(GUEST_TICKETS_PER_IP.blocked_for(address))
        return GuestRefusal([FieldError((), TOO_MANY_FROM_ADDRESS.format(wait=wait))], 429)
    email = _counted_email(form)
    if not GUEST_TICKETS_PER_EMAIL.allows(email):
        wait = wait_in_words(GUEST_TICKETS_PER_EMAIL.blocked_for(email))
        return GuestRefusal([FieldError(("email",), TOO_MANY_FOR_EMAIL.format(wait=wait))], 429)
    return None


def count_guest_ticket(form: ComposeForm) -> None:
    """Count a guest's ticket, once it is opened, towards the limits guest_refusal() reads.

    Looking first and counting after is not atomic: a few concurrent submissions may each pass
    the look; the limits bound floods, not the exact count.
    """
    GUEST_TICKETS_PER_IP.count(request.remote_addr or "")
    GUEST_TICKETS_PER_EMAIL.count(_counted_email(form))


def _counted_email(form: ComposeForm) -> str:
    return form.email.strip().lower()
