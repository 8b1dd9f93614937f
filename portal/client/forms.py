"""The compose form as the client area reads it, and OpenTicket's errors placed on its fields."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from portal.models import Priority, User
from portal.tickets import FieldError, IncomingFile, OpenTicketRequest, errors
from portal.tickets.parameters import row_id
from portal.tickets.replies import ReplyRequest

CUSTOM_FIELD_PREFIX = "customfield["
ACTIONS = frozenset({"submit", "preview", "change_department"})
# The guest form's honeypot: hidden from people by CSS, filled in by robots that fill every field.
HONEYPOT_FIELD = "website"
# The client area keeps WHMCS's own wording for the mistakes people make most.
CLIENT_AREA_WORDING = {
    (errors.NAME_AND_EMAIL_REQUIRED, "name"): "You did not enter your name",
    (errors.NAME_AND_EMAIL_REQUIRED, "email"): "You did not enter your email address",
    (errors.EMAIL_INVALID, "email"): "The email address you entered was not valid",
    (errors.SUBJECT_REQUIRED, "subject"): "You did not enter a subject",
    (errors.MESSAGE_REQUIRED, "message"): "You did not enter a message",
    (errors.DEPARTMENT_NOT_FOUND, "deptid"): "Choose a department",
    (errors.SERVICE_NOT_FOUND, "serviceid"): "Choose one of your services or domains",
    (errors.DOMAIN_NOT_FOUND, "domainid"): "Choose one of your services or domains",
}
# The form shows one "Related service" control for OpenTicket's two parameters.
FORM_FIELD = {"serviceid": "related", "domainid": "related"}
SHOWN_FIELDS = frozenset(
    {
        "name",
        "email",
        "account",
        "subject",
        "deptid",
        "related",
        "priority",
        "message",
        "attachments",
    }
)


@dataclass
class ComposeForm:
    """What a person typed into the submit-ticket form."""

    deptid: int | None = None
    subject: str = ""
    message: str = ""
    priority: str = Priority.MEDIUM.value
    name: str = ""
    email: str = ""
    related: str = ""
    account_id: int | None = None
    custom_values: dict[int, str] = field(default_factory=dict)
    draft: str | None = None
    # The guest form's signed note of when it was shown, and its honeypot.
    shown: str = ""
    honeypot: str = ""
    remove_held: list[str] = field(default_factory=list)
    action: str = "submit"

    @classmethod
    def from_request(cls, form: MultiDict) -> "ComposeForm":
        action = form.get("action", "submit")
        return cls(
            deptid=row_id(form.get("deptid")),
            subject=form.get("subject", ""),
            message=form.get("message", ""),
            priority=form.get("priority", Priority.MEDIUM.value),
            name=form.get("name", ""),
            email=form.get("email", ""),
            related=form.get("related", ""),
            account_id=row_id(form.get("account_id")),
            custom_values={
                field_id: value
                for key, value in form.items()
                if key.startswith(CUSTOM_FIELD_PREFIX)
                and key.endswith("]")
                and (field_id := row_id(key[len(CUSTOM_FIELD_PREFIX) : -1])) is not None
            },
            draft=form.get("draft"),
            shown=form.get("shown", ""),
            honeypot=form.get(HONEYPOT_FIELD, ""),
            remove_held=form.getlist("remove_held"),
            action=action if action in ACTIONS else "submit",
        )

    def open_ticket_request(
        self, user: User | None, uploads: Sequence[IncomingFile]
    ) -> OpenTicketRequest:
        """OpenTicket's parameters; a signed-in user writes as themselves, for their account."""
        request = OpenTicketRequest(
            deptid=self.deptid,
            subject=self.subject,
            message=self.message,
            priority=self.priority,
            customfields=self.custom_values,
            uploads=uploads,
            markdown=True,
            check_custom_fields=True,
            client_area=True,
            signed_in_user=user,
        )
        if user is None:
            request.name, request.email = self.name, self.email
            return request
        request.clientid = self.account_id
        kind, key = self.related[:1], self.related[1:]
        if kind == "S":
            request.serviceid = key
        elif kind == "D":
            request.domainid = key
        return request


@dataclass
class FormErrors:
    """Messages by form field, and the summary shown above the form."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str | None, str]] = field(default_factory=list)

    @classmethod
    def from_field_errors(cls, found: Iterable[FieldError]) -> "FormErrors":
        result = cls()
        for error in found:
            if not error.fields:
                result.add(None, error.message)
            for name in error.fields:
                message = CLIENT_AREA_WORDING.get((error.message, name), error.message)
                form_field = FORM_FIELD.get(name, name)
                shown = form_field in SHOWN_FIELDS or form_field.startswith(CUSTOM_FIELD_PREFIX)
                result.add(form_field if shown else None, message)
        return result

    def add(self, name: str | None, message: str) -> None:
        if name is not None:
            messages = self.by_field.setdefault(name, [])
            if message in messages:
                return
            messages.append(message)
        if (name, message) not in self.summary:
            self.summary.append((name, message))

    def get(self, name: str, default=None):
        return self.by_field.get(name, default)

    def __getitem__(self, name: str) -> list[str]:
        return self.by_field[name]

    def __bool__(self) -> bool:
        return bool(self.summary)


REPLY_ACTIONS = frozenset({"reply", "preview"})


@dataclass
class ReplyForm:
    """What a person typed into a ticket's reply form."""

    tid: str = ""
    code: str = ""
    message: str = ""
    draft: str | None = None
    remove_held: list[str] = field(default_factory=list)
    action: str = "reply"

    @classmethod
    def from_request(cls, form: MultiDict) -> "ReplyForm":
        action = form.get("action", "reply")
        return cls(
            tid=form.get("tid", ""),
            code=form.get("c", ""),
            message=form.get("message", ""),
            draft=form.get("draft"),
            remove_held=form.getlist("remove_held"),
            action=action if action in REPLY_ACTIONS else "reply",
        )

    def reply_request(self, user: User | None, uploads: Sequence[IncomingFile]) -> ReplyRequest:
        """AddTicketReply's parameters: the requester writes markdown, as themselves."""
        return ReplyRequest(
            message=self.message,
            markdown=True,
            uploads=uploads,
            client_area=True,
            signed_in_user=user,
        )
