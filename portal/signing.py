"""Signed values the portal puts in a page and later takes back, with itsdangerous.

Signed with SECRET_KEY, and checked against SECRET_KEY_FALLBACKS too, so that rotating the key
does not refuse every form that was open at the time.
"""

from flask import current_app
from itsdangerous import URLSafeSerializer


def serializer(purpose: str) -> URLSafeSerializer:
    """A serializer for one purpose only: no value signed for one passes for another."""
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    # itsdangerous signs with the last key and accepts any of them.
    return URLSafeSerializer([*fallbacks, current_app.secret_key], salt=purpose)
