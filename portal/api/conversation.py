"""The writing actions beyond OpenTicket: AddTicketReply, AddTicketNote, UpdateTicket and
DeleteTicket, each a thin translation of core calls committed together."""

from flask import Response

from portal.api import parameters
from portal.api.calls import Action, Call, once, remembered, replay, saved, submission_key
from portal.extensions import db
from portal.models import StaffMember, Ticket
from portal.tickets import errors, idempotency
from portal.tickets.changes import update_ticket
from portal.tickets.custom_field_updates import update_custom_fields
from portal.tickets.deleting import delete_ticket
from portal.tickets.errors import ReplyError, UpdateTicketError
from portal.tickets.flags import set_flag
from portal.tickets.lookups import staff_by_username, ticket_by_id, ticket_by_id_or_number
from portal.tickets.notes import add_note
from portal.tickets.replies import add_reply


def add_ticket_reply(call: Call) -> Response:
    """AddTicketReply: a staff reply when `adminusername` names a staff member, otherwise the
    client's (`clientid`) or a named guest's; `customfields` updates the ticket's values."""
    fields, settings = call.fields, call.settings
    reply_request = parameters.reply_request(fields, call.files)
    staff = _reply_staff(fields.get("adminusername"))

    def ticket() -> Ticket:
        return ticket_by_id(
            db.session(), fields.get("ticketid"), missing=errors.TICKET_ID_NOT_FOUND
        )

    def changed_fields(replied: Ticket) -> None:
        update_custom_fields(db.session(), replied, fields.get("customfields"), ReplyError)

    key = submission_key(call)
    if key is not None:

        def reply_once(looked_up: idempotency.SubmissionKey) -> Response:
            outcome = looked_up.add_reply(ticket(), reply_request, settings, staff=staff)
            if outcome.repeated:
                return replay(outcome.record)
            changed_fields(outcome.ticket)
            return remembered(outcome.record, call.presenter.success({}))

        return once(call, key, reply_once)

    def reply_now() -> Response:
        replied = ticket()
        add_reply(db.session(), replied, reply_request, settings, staff=staff)
        changed_fields(replied)
        return call.presenter.success({})

    return saved(call, reply_now)


def _reply_staff(adminusername: str | None) -> StaffMember | None:
    return staff_by_username(db.session(), adminusername) if adminusername else None


def add_ticket_note(call: Call) -> Response:
    """AddTicketNote: the caller's staff member notes, on the ticket `ticketid` or `ticketnum`."""
    fields, settings = call.fields, call.settings
    note_request = parameters.note_request(fields, call.files)

    def ticket() -> Ticket:
        return ticket_by_id_or_number(
            db.session(),
            fields.get("ticketid"),
            fields.get("ticketnum"),
            missing=errors.TICKET_ID_NOT_FOUND,
        )

    key = submission_key(call)
    if key is not None:

        def note_once(looked_up: idempotency.SubmissionKey) -> Response:
            outcome = looked_up.add_note(
                ticket(), note_request, settings, staff=call.caller.staff()
            )
            if outcome.repeated:
                return replay(outcome.record)
            return remembered(outcome.record, call.presenter.success({}))

        return once(call, key, note_once)

    def note_now() -> Response:
        add_note(db.session(), ticket(), note_request, settings, staff=call.caller.staff())
        return call.presenter.success({})

    return saved(call, note_now)


def update_ticket_action(call: Call) -> Response:
    """UpdateTicket, also the way to close a ticket (`status=Closed`)."""
    fields, settings = call.fields, call.settings
    change = parameters.ticket_change(fields)

    def update() -> Response:
        session = db.session()
        ticket = ticket_by_id(
            session, fields.get("ticketid"), missing=errors.TICKET_ID_NOT_FOUND_UPDATE
        )
        update_ticket(session, ticket, change, settings, staff=call.caller.staff())
        set_flag(
            session, ticket, fields.get("flag"), remove=parameters.flag(fields.get("removeFlag"))
        )
        update_custom_fields(session, ticket, fields.get("customfields"), UpdateTicketError)
        return call.presenter.success({"ticketid": str(ticket.id)})

    return saved(call, update)


def delete_ticket_action(call: Call) -> Response:
    """DeleteTicket: the ticket and everything on it; its files go once that is committed."""
    fields, settings = call.fields, call.settings

    def delete() -> Response:
        session = db.session()
        ticket = ticket_by_id(session, fields.get("ticketid"), missing=errors.TICKET_ID_NOT_FOUND)
        delete_ticket(session, ticket, settings.attachments_dir)
        return call.presenter.success({})

    return saved(call, delete)


ACTIONS: dict[str, Action] = {
    "addticketreply": add_ticket_reply,
    "addticketnote": add_ticket_note,
    "updateticket": update_ticket_action,
    "deleteticket": delete_ticket_action,
}
