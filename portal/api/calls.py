"""One API call as the actions see it, and what they share: refusals, replays, submission keys."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, current_app, request
from werkzeug.datastructures import FileStorage, MultiDict

from portal.api import parameters
from portal.api.authentication import Caller
from portal.api.responses import Presenter
from portal.extensions import db
from portal.models import IdempotencyKey
from portal.saving import Refused, commit
from portal.tickets import TicketSettings, idempotency
from portal.tickets.errors import TicketError

KEY_TOO_LONG = f"Idempotency-Key is too long (at most {idempotency.MAX_KEY_LENGTH} characters)"
KEY_REUSED = (
    "Idempotency-Key was already used with different parameters; use a new key for a new request"
)
# The IETF idempotency draft's status for a key reused with another request.
KEY_REUSED_STATUS = 422


@dataclass(frozen=True)
class Call:
    """Who calls, how to answer, and the parameters (query string and body, the body winning)."""

    caller: Caller
    presenter: Presenter
    # One value per name, the last one sent, as PHP's $_REQUEST has it.
    fields: dict[str, str]
    # Every value, for the submission key's fingerprint.
    all_fields: MultiDict[str, str]
    files: MultiDict[str, FileStorage]

    @property
    def settings(self) -> TicketSettings:
        return TicketSettings.from_config(current_app.config)

    def error(self, problem: TicketError) -> Response:
        """A rule the request broke, answered as WHMCS answers it: HTTP 200, `result=error`."""
        return self.presenter.error(problem.message)


Action = Callable[[Call], Response]


def refusal(presenter: Presenter, refused: Refused) -> Response:
    """WHMCS answers a broken rule with HTTP 200; a failed save is worth a retry (503)."""
    return presenter.error(refused.message, refused.status if refused.save_failed else 200)


def caller_scope(caller: Caller) -> str:
    """Whose keys these are: one credential's, or one staff member's legacy login's."""
    if caller.credential_id is not None:
        return f"api-credential:{caller.credential_id}"
    return f"api-legacy-login:{caller.staff_id}"


def replay(record: IdempotencyKey) -> Response:
    """The first answer to a key, as it was sent."""
    response = Response(
        record.response_body, record.response_status, content_type=record.response_content_type
    )
    response.headers["Idempotent-Replayed"] = "true"
    return response


def remembered(record: IdempotencyKey, response: Response) -> Response:
    """Keep the first answer to a key, so that a repeat gets exactly the same one."""
    idempotency.remember_response(
        record, response.status_code, response.content_type, response.get_data(as_text=True)
    )
    return response


def saved(call: Call, write: Callable[[], Response]) -> Response:
    """Run a writing action's core calls and commit them, or answer why nothing was kept."""
    try:
        return commit(db.session(), write)
    except Refused as refused:
        return refusal(call.presenter, refused)


def submission_key(call: Call) -> str | None:
    """The request's Idempotency-Key (header, else the `idempotencykey` field), if any."""
    return parameters.idempotency_key(request.headers, call.fields)


def once(call: Call, key: str, write: Callable[[idempotency.SubmissionKey], Response]) -> Response:
    """A writing action under an Idempotency-Key: a repeat gets the first answer and writes
    nothing. Only an answer that wrote something is kept; a refusal leaves the key unused."""
    if len(key) > idempotency.MAX_KEY_LENGTH:
        return call.presenter.error(KEY_TOO_LONG, 400)
    submission = idempotency.Submission(
        caller_scope(call.caller), key, parameters.fingerprint(call.all_fields, call.files)
    )

    def write_once() -> Response:
        looked_up = idempotency.look_up(db.session(), submission)
        if looked_up.earlier is not None:
            return replay(looked_up.earlier.record)
        return write(looked_up)

    try:
        return commit(db.session(), write_once)
    except Refused as refused:
        return refusal(call.presenter, refused)
    except idempotency.KeyReused:
        db.session.rollback()
        return call.presenter.error(KEY_REUSED, KEY_REUSED_STATUS)
