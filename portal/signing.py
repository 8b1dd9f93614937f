"""Short signatures for values the portal puts in a page or cookie and later takes back."""

import base64
import hashlib
import hmac


def signature(key: bytes, message: str) -> str:
    """HMAC-SHA256 of the message cut to 128 bits, as 22 URL-safe characters."""
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signature_matches(key: bytes, message: str, presented: str) -> bool:
    """Whether `presented` is the message's signature, compared in constant time."""
    return hmac.compare_digest(presented.encode(), signature(key, message).encode())


def derived_key(secret: str | bytes, purpose: str) -> bytes:
    """A key for one purpose only, so that no signature made for one passes for another."""
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()
