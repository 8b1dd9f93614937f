"""Protections every response gets: security headers, and proxy handling the operator asked for."""

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register_security(app: Flask) -> None:
    proxies = int(app.config["PROXY_COUNT"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.after_request(add_security_headers)
    app.after_request(keep_access_codes_out_of_caches)


# Ticket links carry the access code: Referrer-Policy never hands them to another site.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("X-Content-Type-Options", "nosniff"),
)


def add_security_headers(response: Response) -> Response:
    """Each header unless the view set its own."""
    # One pass over the names: werkzeug's setdefault raised and caught an exception per missing
    # header, a visible share of a page as cheap as a ticket view.
    present = {name.lower() for name, _ in response.headers.items()}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            response.headers.add(name, value)
    return response


# The endpoints whose answers show an access code, or links and forms that carry one. A code
# opens its ticket to whoever reads it: no browser or proxy cache may keep such a page for the
# next person at a shared computer, or for Back after signing out.
SHOWS_ACCESS_CODES = frozenset(
    {
        "client.view_ticket",
        "client.confirm_close_ticket",
        "client.close_ticket",
        "client.ticket_created",
        "client.my_tickets",
        "staff.ticket",
        "staff.ticket_created",
        "api.api_php",
    }
)


def keep_access_codes_out_of_caches(response: Response) -> Response:
    if request.endpoint in SHOWS_ACCESS_CODES:
        response.headers["Cache-Control"] = "no-store"
    return response
