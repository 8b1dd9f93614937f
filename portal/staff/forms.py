"""The staff forms as typed, and their translation to and from the core (OpenTicket,
AddTicketReply, AddTicketNote, UpdateTicket)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from portal.models import Priority, Ticket
from portal.tickets import FieldError, IncomingFile, OpenTicketRequest, statuses
from portal.tickets.changes import TicketChange
from portal.tickets.notes import NoteRequest
from portal.tickets.replies import ReplyRequest

_CUSTOM_FIELD = re.compile(r"customfield\[(\d{1,10})\]")
CLOSURE_CHOICES = {"inherit": None, "yes": True, "no": False}
# Buttons that only redraw the form (the default, "open", opens the ticket).
REDRAW_ACTIONS = frozenset({"search", "choose", "change_department", "preview"})
# What the form's first, unseen button sends: Enter in a text box presses it.
ENTER = "enter"

# The core names request parameters; the form has one control for some pairs of them.
FORM_CONTROL_FOR_PARAMETER = {
    "userid": "requestor",
    "contactid": "requestor",
    "serviceid": "related",
    "domainid": "related",
}


@dataclass
class OpenTicketForm:
    """Open New Ticket as typed; kept as strings so a refused form comes back exactly as sent."""

    query: str = ""
    clientid: str = ""
    requestor: str = ""
    name: str = ""
    email: str = ""
    related: str = ""
    deptid: str = ""
    subject: str = ""
    message: str = ""
    priority: str = Priority.MEDIUM.value
    created: str = ""
    send_email: bool = True
    prevent_client_closure: str = "inherit"
    markdown: bool = True
    customfields: dict[int, str] = field(default_factory=dict)
    draft: str = ""
    remove_held: list[str] = field(default_factory=list)
    action: str = "open"

    @classmethod
    def from_post(cls, form: MultiDict) -> "OpenTicketForm":
        """The form as submitted; unticked boxes are absent from a POST, so they read as off."""
        closure = form.get("prevent_client_closure", "inherit")
        return cls(
            query=form.get("q", ""),
            clientid=form.get("clientid", ""),
            requestor=form.get("requestor", ""),
            name=form.get("name", ""),
            email=form.get("email", ""),
            related=form.get("related", ""),
            deptid=form.get("deptid", ""),
            subject=form.get("subject", ""),
            message=form.get("message", ""),
            priority=form.get("priority", Priority.MEDIUM.value),
            created=form.get("created", ""),
            send_email="send_email" in form,
            prevent_client_closure=closure if closure in CLOSURE_CHOICES else "inherit",
            markdown="markdown" in form,
            customfields={
                int(match.group(1)): value
                for key, value in form.items()
                if (match := _CUSTOM_FIELD.fullmatch(key))
            },
            draft=form.get("draft", ""),
            remove_held=form.getlist("remove_held"),
            action=pressed(form),
        )

    def ticket_request(self, uploads: Sequence[IncomingFile]) -> OpenTicketRequest:
        kind, _, requestor_id = self.requestor.partition(":")
        return OpenTicketRequest(
            clientid=self.clientid or None,
            userid=requestor_id if kind == "user" else None,
            contactid=requestor_id if kind == "contact" else None,
            name=self.name,
            email=self.email,
            deptid=self.deptid or None,
            subject=self.subject,
            message=self.message,
            priority=self.priority,
            created=self.created or None,
            serviceid=self.related[1:] if self.related.startswith("S") else None,
            domainid=self.related[1:] if self.related.startswith("D") else None,
            admin=True,
            check_custom_fields=True,
            noemail=not self.send_email,
            markdown=self.markdown,
            prevent_client_closure=CLOSURE_CHOICES[self.prevent_client_closure],
            customfields=self.customfields,
            uploads=uploads,
        )


def pressed(form: MultiDict) -> str:
    """The button the form was sent with; Enter after typing a new client query means Search."""
    action = form.get("action", "open")
    if action == ENTER:
        query = form.get("q", "").strip()
        # The page lists the clients of the query it was drawn for (results_for). A query typed
        # since then is what Enter was meant for; otherwise Enter sends the ticket, as in any form.
        return "search" if query and query != form.get("results_for", "").strip() else "open"
    return action if action in REDRAW_ACTIONS else "open"


def form_errors(
    errors: Sequence[FieldError],
) -> tuple[dict[str, list[str]], list[tuple[str | None, str]]]:
    """The core's messages by form control, and the summary's (control, message) pairs, in the
    core's order; an error of no control (the ticket number) is listed without a link."""
    placed: dict[str, list[str]] = {}
    summary: list[tuple[str | None, str]] = []
    for error in errors:
        controls = [form_control_for(parameter) for parameter in error.fields]
        for control in controls:
            if control is not None and error.message not in placed.setdefault(control, []):
                placed[control].append(error.message)
        summary.append((controls[0] if controls else None, error.message))
    return placed, summary


def form_control_for(parameter: str) -> str | None:
    if parameter == "tid":
        return None
    return FORM_CONTROL_FOR_PARAMETER.get(parameter, parameter)


# The reply and note forms' buttons: "send" adds the reply or note, "preview" only redraws.
COMPOSE_ACTIONS = frozenset({"send", "preview"})


@dataclass
class TicketComposeForm:
    """A message written on a ticket's page (a reply or a note), as typed."""

    message: str = ""
    markdown: bool = True
    draft: str = ""
    remove_held: list[str] = field(default_factory=list)
    action: str = "send"

    @staticmethod
    def _common(form: MultiDict) -> dict:
        action = form.get("action", "send")
        return {
            "message": form.get("message", ""),
            "markdown": "markdown" in form,
            "draft": form.get("draft", ""),
            "remove_held": form.getlist("remove_held"),
            "action": action if action in COMPOSE_ACTIONS else "send",
        }


@dataclass
class StaffReplyForm(TicketComposeForm):
    """The staff reply form: AddTicketReply with the status to set and whether to email."""

    status: str = statuses.AFTER_STAFF_REPLY.value
    send_email: bool = True

    @classmethod
    def from_post(cls, form: MultiDict) -> "StaffReplyForm":
        return cls(
            **cls._common(form),
            status=form.get("status", statuses.AFTER_STAFF_REPLY.value),
            send_email="send_email" in form,
        )

    def reply_request(self, uploads: Sequence[IncomingFile]) -> ReplyRequest:
        return ReplyRequest(
            message=self.message,
            markdown=self.markdown,
            status=self.status,
            noemail=not self.send_email,
            uploads=uploads,
        )


@dataclass
class NoteForm(TicketComposeForm):
    """The internal note form: AddTicketNote."""

    @classmethod
    def from_post(cls, form: MultiDict) -> "NoteForm":
        return cls(**cls._common(form))

    def note_request(self, uploads: Sequence[IncomingFile]) -> NoteRequest:
        return NoteRequest(message=self.message, markdown=self.markdown, uploads=uploads)


@dataclass
class TicketChangeForm:
    """The ticket's department, status, priority and subject (UpdateTicket), as typed."""

    deptid: str = ""
    status: str = ""
    priority: str = ""
    subject: str = ""

    @classmethod
    def of(cls, ticket: Ticket) -> "TicketChangeForm":
        """The form as first shown: the ticket as it is."""
        return cls(str(ticket.department_id), ticket.status, ticket.priority, ticket.subject)

    @classmethod
    def from_post(cls, form: MultiDict) -> "TicketChangeForm":
        return cls(
            deptid=form.get("deptid", ""),
            status=form.get("status", ""),
            priority=form.get("priority", ""),
            subject=form.get("subject", ""),
        )

    def change(self) -> TicketChange:
        # An empty value leaves the ticket's as it is, as UpdateTicket's parameters do.
        return TicketChange(
            deptid=self.deptid, status=self.status, priority=self.priority, subject=self.subject
        )
