"""The departments a blank compose form offers, as read at most a moment ago by this worker.

What a blank form shows of them is advice, not a decision: a form page is as old as the time
its reader takes to fill it in, and sending it checks the department as it is then (the core's
department_rules). Read afresh for every GET, they cost each GET a pooled connection and a
statement, the largest part of a guest's GET (bench/README.md, tenth sitting).
"""

import time

from flask import current_app
from flask.blueprints import BlueprintSetupState

from portal.client import client
from portal.extensions import db
from portal.tickets.access import FormDepartments, form_departments

# Department ids asked for, real or made up; a flood of made-up ones empties the memo at once.
MAX_REMEMBERED = 64


@client.record_once
def _remember_departments(state: BlueprintSetupState) -> None:
    state.app.extensions["recent_departments"] = {}


def recent_form_departments(chosen_id: int | None) -> FormDepartments:
    """form_departments(), read again once FORM_DEPARTMENTS_MAX_AGE seconds have passed."""
    max_age = float(current_app.config["FORM_DEPARTMENTS_MAX_AGE"])
    remembered: dict = current_app.extensions["recent_departments"]
    now = time.monotonic()
    found = remembered.get(chosen_id)
    if found is None or found[0] <= now:
        if len(remembered) >= MAX_REMEMBERED:
            remembered.clear()
        found = remembered[chosen_id] = (now + max_age, form_departments(db.session, chosen_id))
    return found[1]
