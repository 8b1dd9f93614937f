"""Who may call api.php: access control by address or access key, then the caller's credentials."""

import hmac
import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash

from portal.api.credentials import md5_of_secret_matches, secret_matches
from portal.api.permissions import TICKET_ACTIONS, allowed_actions
from portal.extensions import db
from portal.identity import UNUSED_HASH
from portal.models import ApiCredential, StaffMember

AUTHENTICATION_FAILED = "Authentication Failed"
INVALID_ACCESS_KEY = "Invalid Access Key"
# Longer values cannot name a row (both columns are String(64)); NUL bytes break PostgreSQL.
MAX_NAME_LENGTH = 64

log = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AccessRefused(Exception):
    """The caller may not use the API; `message` is WHMCS's text for why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def invalid_ip(address: str | None) -> AccessRefused:
    return AccessRefused(f"Invalid IP {address or ''}")


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: the staff member it acts as, and its credential unless legacy."""

    staff_id: int
    # None for the legacy username and password login.
    credential_id: int | None = None
    allowed_ips: str = ""
    # The actions it may call (lower case); the legacy login may call every one.
    actions: frozenset[str] = frozenset(TICKET_ACTIONS)

    def staff(self) -> StaffMember | None:
        """The staff member, loaded only when a request acts as them."""
        return db.session.get(StaffMember, self.staff_id)


def authorised_caller(form: Mapping[str, str], address: str | None, config: Mapping) -> Caller:
    """The caller behind a request, or AccessRefused; access control comes first, as in WHMCS."""
    check_addresses = not access_key_presented(form.get("accesskey"), config["API_ACCESS_KEY"])
    if check_addresses and not address_allowed(address, config["API_ALLOWED_IPS"]):
        raise invalid_ip(address)
    caller = authenticated_caller(
        form,
        bool(config["API_ALLOW_LEGACY_PASSWORD_AUTH"]),
        accept_md5_secret=bool(config["API_ACCEPT_MD5_SECRET"]),
    )
    # Checked only once the secret matched, so that a stranger cannot learn which identifiers
    # exist from the difference between "Invalid IP" and "Authentication Failed".
    if (
        check_addresses
        and caller.allowed_ips.strip()
        and not address_allowed(address, caller.allowed_ips)
    ):
        raise invalid_ip(address)
    return caller


def access_key_presented(presented: str | None, configured: str) -> bool:
    """True when the right access key came; a wrong one (or one nobody configured) is refused."""
    if not presented:
        return False
    if configured and hmac.compare_digest(presented.encode(), str(configured).encode()):
        return True
    raise AccessRefused(INVALID_ACCESS_KEY)


def address_allowed(address: str | None, allow_list: str) -> bool:
    """Whether an address falls in a comma-separated list of addresses and networks."""
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    candidates = [client]
    # Dual-stack servers report IPv4 clients as ::ffff:a.b.c.d; either spelling may be listed.
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
        candidates.append(client.ipv4_mapped)
    networks = allowed_networks(allow_list)
    return any(
        candidate in network
        for candidate in candidates
        for network in networks
        if candidate.version == network.version
    )


def allowed_networks(allow_list: str) -> tuple[IPNetwork, ...]:
    networks = []
    for entry in allow_list.replace(";", ",").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            # An entry nobody can match allows nobody; the rest of the list still counts.
            log.warning("Ignoring %r in an API IP allow-list: not an address or network", entry)
    return tuple(networks)


def authenticated_caller(
    form: Mapping[str, str], allow_legacy_password: bool, *, accept_md5_secret: bool = False
) -> Caller:
    """The caller whose identifier and secret (or, if allowed, legacy admin login) match.

    With `accept_md5_secret` a credential's secret may also come as its MD5 hex digest.
    """
    if form.get("identifier"):
        name, secret, legacy_spelling = form["identifier"], form.get("secret") or "", False
    else:
        name, secret = form.get("username") or "", form.get("password") or ""
        legacy_spelling = True
    caller = _api_credential_caller(name, secret, accept_md5_secret)
    if caller is None and legacy_spelling and allow_legacy_password:
        caller = _legacy_password_caller(name, secret)
    if caller is None:
        raise AccessRefused(AUTHENTICATION_FAILED)
    return caller


def _api_credential_caller(identifier: str, secret: str, accept_md5: bool) -> Caller | None:
    if not _can_name_a_row(identifier):
        return None
    credential = db.session.scalar(
        select(ApiCredential)
        .where(ApiCredential.identifier == identifier)
        .options(joinedload(ApiCredential.staff))
    )
    # MariaDB compares case-insensitively and ignores trailing spaces; identifiers are exact.
    if credential is None or credential.identifier != identifier:
        return None
    matches = secret_matches(credential.secret_sha256, secret) or (
        accept_md5 and md5_of_secret_matches(credential.secret_md5_sha256, secret)
    )
    if not matches or not credential.staff.active:
        return None
    return Caller(
        credential.staff_id,
        credential.id,
        credential.allowed_ips,
        allowed_actions(credential.allowed_actions),
    )


def _legacy_password_caller(username: str, password_md5: str) -> Caller | None:
    staff = None
    if _can_name_a_row(username):
        staff = db.session.scalar(select(StaffMember).where(StaffMember.username == username))
    if staff is None or staff.username != username or not staff.legacy_api_password_hash:
        # The same slow hash check as for a real account, so timing does not reveal usernames.
        check_password_hash(UNUSED_HASH, password_md5)
        return None
    if not check_password_hash(staff.legacy_api_password_hash, password_md5):
        return None
    return Caller(staff.id) if staff.active else None


def _can_name_a_row(name: str) -> bool:
    return bool(name) and len(name) <= MAX_NAME_LENGTH and "\x00" not in name
