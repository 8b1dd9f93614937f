"""Reading api.php's form fields the way WHMCS clients send them."""

import hashlib
import json
import re
from collections.abc import Mapping

from werkzeug.datastructures import FileStorage, Headers, MultiDict

from portal.tickets import IncomingFile, OpenTicketRequest
from portal.tickets.changes import TicketChange
from portal.tickets.notes import NoteRequest
from portal.tickets.replies import ReplyRequest

TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "off", "no", ""})
# PHP forms name repeated file fields with brackets; the bare name is accepted too.
UPLOAD_FIELDS = ("attachments[]", "attachments")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]")
IDEMPOTENCY_HEADER = "Idempotency-Key"
# The same key in a form field, for clients that cannot set headers.
IDEMPOTENCY_FIELD = "idempotencykey"
# Who calls and how the answer is written: a retry may change these and is still the same request.
NOT_FINGERPRINTED = frozenset(
    {"identifier", "secret", "username", "password", "accesskey", "responsetype", IDEMPOTENCY_FIELD}
)
_HASH_CHUNK = 1024 * 1024


def request_fields(query: MultiDict[str, str], body: MultiDict[str, str]) -> MultiDict[str, str]:
    """The parameters as PHP's $_REQUEST has them: the query string's, then the body's, the body
    winning for a name both send."""
    fields: MultiDict[str, str] = MultiDict()
    for name, values in query.lists():
        if name not in body:
            fields.setlist(name, values)
    for name, values in body.lists():
        fields.setlist(name, values)
    return fields


def last_values(fields: MultiDict[str, str]) -> dict[str, str]:
    """One value per name: a repeated field counts with its last value, as in PHP."""
    return dict(fields.items(multi=True))


def action_name(value: str | None) -> str:
    """The action as WHMCS matches it: lower case, letters and digits only."""
    return _NOT_ALPHANUMERIC.sub("", (value or "").lower())


def flag(value: str | None) -> bool:
    """A boolean as http_build_query and WHMCS clients send it; absent is false."""
    if value is None:
        return False
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    # Anything else is PHP's truthiness, which integrations tested against WHMCS rely on.
    return word != ""


def optional_flag(value: str | None) -> bool | None:
    """Like flag(), but None when the field is absent, so that a default can apply."""
    return None if value is None else flag(value)


def uploads(files: MultiDict[str, FileStorage]) -> list[IncomingFile]:
    """Multipart files, skipping the empty part a browser sends for an unused file input."""
    return [
        IncomingFile(storage.filename or "", storage.stream)
        for field_name in UPLOAD_FIELDS
        for storage in files.getlist(field_name)
        if storage.filename
    ]


def open_ticket_request(
    form: Mapping[str, str], files: MultiDict[str, FileStorage]
) -> OpenTicketRequest:
    """OpenTicket's parameters from the form, as strings for the core to read as WHMCS does."""
    return OpenTicketRequest(
        deptid=form.get("deptid"),
        subject=form.get("subject"),
        message=form.get("message"),
        clientid=form.get("clientid"),
        userid=form.get("userid"),
        contactid=form.get("contactid"),
        name=form.get("name"),
        email=form.get("email"),
        priority=form.get("priority"),
        created=form.get("created"),
        serviceid=form.get("serviceid"),
        domainid=form.get("domainid"),
        admin=flag(form.get("admin")),
        noemail=flag(form.get("noemail")),
        markdown=flag(form.get("markdown")),
        customfields=form.get("customfields"),
        attachments=form.get("attachments"),
        uploads=uploads(files),
        prevent_client_closure=optional_flag(form.get("preventClientClosure")),
    )


def reply_request(form: Mapping[str, str], files: MultiDict[str, FileStorage]) -> ReplyRequest:
    """AddTicketReply's parameters; `userid` and `useMarkdown` are the names older docs used."""
    markdown = form.get("markdown", form.get("useMarkdown"))
    return ReplyRequest(
        message=form.get("message"),
        markdown=flag(markdown),
        clientid=form.get("clientid") or form.get("userid"),
        contactid=form.get("contactid"),
        name=form.get("name"),
        email=form.get("email"),
        status=form.get("status"),
        created=form.get("created"),
        noemail=flag(form.get("noemail")),
        attachments=form.get("attachments"),
        uploads=uploads(files),
    )


def note_request(form: Mapping[str, str], files: MultiDict[str, FileStorage]) -> NoteRequest:
    return NoteRequest(
        message=form.get("message"),
        markdown=flag(form.get("markdown", form.get("useMarkdown"))),
        created=form.get("created"),
        attachments=form.get("attachments"),
        uploads=uploads(files),
    )


def ticket_change(form: Mapping[str, str]) -> TicketChange:
    """UpdateTicket's parameters; the docs' example sends `clientid` for `userid`."""
    return TicketChange(
        deptid=form.get("deptid"),
        status=form.get("status"),
        subject=form.get("subject"),
        priority=form.get("priority"),
        userid=form.get("userid") or form.get("clientid"),
        name=form.get("name"),
        email=form.get("email"),
        cc=form.get("cc"),
        created=form.get("created"),
        message=form.get("message"),
        markdown=optional_flag(form.get("markdown", form.get("useMarkdown"))),
        prevent_client_closure=optional_flag(form.get("preventClientClosure")),
    )


def idempotency_key(headers: Headers, form: Mapping[str, str]) -> str | None:
    """The Idempotency-Key header, else the idempotencykey field; None when neither is set."""
    return headers.get(IDEMPOTENCY_HEADER) or form.get(IDEMPOTENCY_FIELD) or None


def fingerprint(form: MultiDict[str, str], files: MultiDict[str, FileStorage]) -> str:
    """SHA-256 of what the request asks for: its fields and its files' names and contents."""
    fields = [
        [name, values] for name, values in sorted(form.lists()) if name not in NOT_FINGERPRINTED
    ]
    uploaded = [
        [name, [[storage.filename or "", _content_sha256(storage)] for storage in storages]]
        for name, storages in sorted(files.lists())
    ]
    canonical = json.dumps([fields, uploaded], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _content_sha256(storage: FileStorage) -> str:
    """The upload's digest, leaving the stream at its start for the core to read."""
    digest = hashlib.sha256()
    stream = storage.stream
    stream.seek(0)
    while chunk := stream.read(_HASH_CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()
