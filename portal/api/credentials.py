"""API credentials: an identifier and a random secret of which only a SHA-256 digest is kept."""

import hashlib
import hmac
import secrets

from sqlalchemy.orm import Session

from portal.models import ApiCredential, StaffMember


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_credential(
    session: Session, staff: StaffMember, *, allowed_ips: str = "", description: str = ""
) -> tuple[ApiCredential, str]:
    """A new credential and its secret, which is shown once and never stored."""
    secret = secrets.token_urlsafe(32)
    credential = ApiCredential(
        identifier=secrets.token_urlsafe(24),
        secret_sha256=digest(secret),
        staff=staff,
        allowed_ips=allowed_ips,
        description=description,
    )
    session.add(credential)
    session.flush()
    return credential, secret


def secret_matches(secret_sha256: str, secret: str) -> bool:
    return hmac.compare_digest(secret_sha256, digest(secret))
