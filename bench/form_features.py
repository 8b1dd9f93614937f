"""What each of the guest form's features costs, by switching it off in one process.

The form misses its target against the ceiling, and no single step explains the gap. This
measures the features the ceiling's form does not have, one at a time: the portal's form is
run by direct WSGI calls (as bench.wsgi_calls does) with and without the feature, in
alternating batches beside the ceiling's form, and the difference is what the feature costs:

    .venv/bin/python -m bench.form_features --batches 30

"Without" replaces the feature with the least that lets the form still open its ticket: a
bare page with the same hidden fields, department rows read once at start, no submission key,
no guest checks. Only the CPU time inside the app counts, as in bench.wsgi_calls. Nothing
here is a way to run the portal; it only shows where the time goes.
"""

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

from flask_wtf.csrf import generate_csrf

from bench import ceiling_app
from bench.profile_requests import build
from bench.wsgi_calls import FormGuest, cpu_ms_per_ticket, form_guests
from portal.extensions import db
from portal.tickets import departments, idempotency, operations
from portal.tickets.access import form_departments

BATCH = 50


def bare_compose_page(form, offered, errors, held_files, **options):
    """The compose page reduced to what the next POST needs."""
    return (
        '<!doctype html><form method="post" action="/submitticket"'
        ' enctype="multipart/form-data">'
        f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">'
        f'<input type="hidden" name="draft" value="{form.draft}">'
        f'<input type="hidden" name="shown" value="{form.shown}">'
        "</form>"
    ), 200


def bare_blank_form(form, offered):
    return bare_compose_page(form, offered, errors=None, held_files=[])[0]


def bare_confirmation(tid, code):
    return f"{tid} {code}"


class NoSubmissionKey:
    """A key that was never used and claims nothing: the core's open_ticket alone."""

    earlier = None

    def __init__(self, session, submission, department_id=None):
        # Without the key's read the department is read on its own: that read stays measured
        # as "department's rules".
        self.session = session

    def open_ticket(self, request, settings, acting_staff=None):
        opened = operations.open_ticket(self.session, request, settings)
        return idempotency.Outcome(opened.id, opened.tid, opened.c, False, None, None)


def features(app, department: int) -> dict[str, list[tuple[str, object]]]:
    """Each feature's name, and what stands in for it while it is switched off."""
    with app.app_context():
        offered = form_departments(db.session, department)
        rules = departments._read_rules(db.session, department)
        db.session.remove()
    found = {
        # A guest's first GET comes from the page the worker keeps, not render_compose: both go.
        "compose page template": [
            ("portal.client.submission.render_compose", bare_compose_page),
            ("portal.client.submission.blank_guest_form", bare_blank_form),
        ],
        # A guest's confirmation too comes from a kept page: the whole of it goes.
        "confirmation template": [
            ("portal.client.submission.confirmation_page", bare_confirmation)
        ],
        # Read at most once a second per worker (portal/client/recent_departments.py): the
        # feature is that memo and what it reads, so the stand-in replaces the memo itself.
        "departments on the form": [
            ("portal.client.submission.recent_form_departments", lambda chosen: offered)
        ],
        # Read with the submission key (departments.Beside): the stand-in reads the key alone,
        # and the rules come from memory.
        "department's rules": [
            ("portal.tickets.departments._read_rules", lambda session, chosen: rules),
            (
                "portal.tickets.idempotency.read_beside",
                lambda session, lookup, keys, chosen: departments.read_beside(
                    session, lookup, keys, None
                ),
            ),
        ],
        "submission key": [("portal.tickets.idempotency.look_up", NoSubmissionKey)],
        "guest checks": [
            ("portal.client.submission.shown_stamp", lambda draft: "unused"),
            ("portal.client.submission.restamp_if_unusable", lambda form: 0.0),
            ("portal.client.submission.guest_refusal", lambda form, shown: None),
        ],
        "email validation": [("portal.tickets.operations._valid_email", lambda email: True)],
    }
    found["all of the above"] = [stand_in for each in found.values() for stand_in in each]
    return found


def switched_off(stand_ins, guest: FormGuest, count: int) -> float:
    with ExitStack() as patches:
        for target, stand_in in stand_ins:
            patches.enter_context(mock.patch(target, stand_in))
        return cpu_ms_per_ticket(guest, count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=30, help=f"of {BATCH} tickets per app")
    parser.add_argument("--features", help="comma-separated names; all by default")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="portal-form-features-") as directory:
        app, seeded, _ = build(Path(directory), {"PORTAL_MAIL_DELIVER_AFTER_COMMIT": "false"})
        os.environ["CEILING_DATABASE_URI"] = f"sqlite:///{Path(directory) / 'ceiling.sqlite3'}"
        ceiling_app.create_schema()
        portal, ceiling = form_guests(app, ceiling_app.create_app(), seeded, "/submit")
        known = features(app, seeded.guest_department)
        chosen = args.features.split(",") if args.features else list(known)
        cpu_ms_per_ticket(portal, 200)
        cpu_ms_per_ticket(ceiling, 200)
        print(f"CPU ms per ticket, {args.batches} alternating batches of {BATCH} tickets each")
        for name in chosen:
            switched_off(known[name], portal, BATCH)
            with_it = without_it = ceiling_ms = 0.0
            # In turn, so that a change in the machine's speed touches all three alike.
            for _ in range(args.batches):
                with_it += cpu_ms_per_ticket(portal, BATCH)
                without_it += switched_off(known[name], portal, BATCH)
                ceiling_ms += cpu_ms_per_ticket(ceiling, BATCH)
            with_it, without_it, ceiling_ms = (
                total / args.batches for total in (with_it, without_it, ceiling_ms)
            )
            print(
                f"{name:24s} with {with_it:.3f}, without {without_it:.3f}: costs"
                f" {with_it - without_it:+.3f}; ceiling {ceiling_ms:.3f}; portal/ceiling"
                f" {ceiling_ms / with_it:.2f} with, {ceiling_ms / without_it:.2f} without"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
