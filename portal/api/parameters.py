"""Reading api.php's form fields the way WHMCS clients send them."""

import re

from werkzeug.datastructures import FileStorage, MultiDict

from portal.tickets import IncomingFile, OpenTicketRequest

TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "off", "no", ""})
# PHP forms name repeated file fields with brackets; the bare name is accepted too.
UPLOAD_FIELDS = ("attachments[]", "attachments")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]")


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
        IncomingFile(storage.filename, storage.stream)
        for field_name in UPLOAD_FIELDS
        for storage in files.getlist(field_name)
        if storage.filename
    ]


def open_ticket_request(
    form: MultiDict[str, str], files: MultiDict[str, FileStorage]
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
