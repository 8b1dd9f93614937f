"""API credentials: an identifier and a random secret of which only SHA-256 digests are kept."""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from sqlalchemy.orm import Session

from portal.models import ApiCredential, StaffMember

_MD5_HEX = re.compile(r"[0-9a-fA-F]{32}")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def md5_hex(secret: str) -> str:
    """The MD5 hex digest some WHMCS clients always send in place of the password."""
    return hashlib.md5(secret.encode()).hexdigest()  # noqa: S324 - WHMCS's legacy format


def create_api_credential(
    session: Session,
    staff: StaffMember,
    *,
    allowed_ips: str = "",
    description: str = "",
    actions: Iterable[str] | None = None,
) -> tuple[ApiCredential, str]:
    """A new credential and its secret, which is shown once and never stored.

    `actions` limits it to those API actions (lower case); None allows every ticket action.
    """
    secret = secrets.token_urlsafe(32)
    credential = ApiCredential(
        identifier=secrets.token_urlsafe(24),
        secret_sha256=digest(secret),
        secret_md5_sha256=digest(md5_hex(secret)),
        staff=staff,
        allowed_ips=allowed_ips,
        description=description,
        allowed_actions=None if actions is None else ",".join(actions),
    )
    session.add(credential)
    session.flush()
    return credential, secret


def secret_matches(secret_sha256: str, secret: str) -> bool:
    return hmac.compare_digest(secret_sha256, digest(secret))


def md5_of_secret_matches(secret_md5_sha256: str | None, presented: str) -> bool:
    """Whether `presented` is the MD5 hex digest (either case) of the credential's secret."""
    if not secret_md5_sha256 or not _MD5_HEX.fullmatch(presented):
        return False
    return hmac.compare_digest(secret_md5_sha256, digest(presented.lower()))
