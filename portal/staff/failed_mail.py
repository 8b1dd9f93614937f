"""Email the outbox gave up on, for staff to see and send again."""

from flask import abort, flash, redirect, render_template, url_for

from portal.extensions import db
from portal.identity import staff_required
from portal.mail.outbox import failed_messages, retry_message
from portal.models import OutboxMessage, OutboxStatus
from portal.staff import staff
from portal.tickets.parameters import row_id


@staff.get("/mail/failed")
@staff_required
def failed_mail():
    return render_template("staff/failed_mail.html", messages=failed_messages(db.session()))


@staff.post("/mail/<int:message_id>/retry")
@staff_required
def retry_failed_mail(message_id: int):
    key = row_id(message_id)
    message = db.session.get(OutboxMessage, key) if key else None
    if message is None or message.status != OutboxStatus.FAILED:
        abort(404)
    retry_message(message)
    db.session.commit()
    flash(f"The message to {message.recipients} will be sent again.", "success")
    return redirect(url_for(".failed_mail"))
