"""Credentials that arrive in a URL never reach a log: their values become `[REDACTED]`.

WHMCS accepts every parameter in the query string, credentials included, so request lines such
as `GET /includes/api.php?identifier=...&secret=...` would otherwise be written by the access
log (gunicorn's, see gunicorn.conf.py) and by the development server. Standard library only:
gunicorn.conf.py loads it before the app.
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


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with credentials redacted (and its arguments merged in)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it for logging to report
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = RedactingFilter()


def install(*logger_names: str) -> None:
    """Add the filter to these loggers (and to their handlers, which see propagated records)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
