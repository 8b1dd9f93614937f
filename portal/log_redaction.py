"""Credentials that arrive in a URL never reach a log: their values become `[REDACTED]`.

WHMCS accepts every parameter in the query string, credentials included, so request lines such
as `GET /includes/api.php?identifier=...&secret=...` would otherwise be written by gunicorn's
access and error logs, by the development server and by the app. install() redacts every log
record of the process as it is made.
"""

import logging
import re
from urllib.parse import unquote_plus

# The API's credential parameters, lower case (names are compared after percent-decoding).
SENSITIVE_PARAMETERS = frozenset({"identifier", "secret", "username", "password", "accesskey"})
REDACTED = "[REDACTED]"
# name=value after `?`, `&` or `;`, up to the next separator, space or quote.
_PARAMETER = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;\s\"'#?]+)=(?P<value>[^&;\s\"'#]*)")


def redact(text: str) -> str:
    """The text with the values of credential parameters in any query string replaced."""
    if "=" not in text:
        return text
    return _PARAMETER.sub(_redacted_pair, text)


def _redacted_pair(match: re.Match) -> str:
    name = match.group("name")
    if unquote_plus(name).strip().lower() not in SENSITIVE_PARAMETERS:
        return match.group(0)
    return f"{match.group('lead')}{name}={REDACTED}"


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with credentials redacted from its message (its arguments merged in)."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it for logging to report
        return record
    redacted = redact(message)
    if redacted != message:
        record.msg, record.args = redacted, None
    return record


def install() -> None:
    """Redact every log record of the process as it is made, whichever logger makes it (the
    development server's, gunicorn's access and error logs, the app's) and wherever it goes."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts_credentials", False):
        return

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        return redact_record(factory(*args, **kwargs))

    redacting_factory.redacts_credentials = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
