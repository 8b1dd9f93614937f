"""Flask's signed-cookie sessions, with the signing serializer built once instead of per request."""

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CookieSessions(SecureCookieSessionInterface):
    """Flask's own cookie sessions; only the serializer is kept while the keys stay the same.

    Flask builds a new serializer (and test-serialises a value with it) on every request, even
    one that sends no cookie; for a page as cheap as a ticket view that was a visible share.
    """

    def __init__(self) -> None:
        self._keys: tuple | None = None
        self._serializer: URLSafeTimedSerializer | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:
            # Built before it is published, so a concurrent request sees old or new, never half.
            serializer = super().get_signing_serializer(app)
            self._serializer, self._keys = serializer, keys
        return self._serializer


def register_sessions(app: Flask) -> None:
    app.session_interface = CookieSessions()
