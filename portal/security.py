"""Protections every response gets: security headers, and proxy handling the operator asked for."""

import logging
import threading

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

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
    else:
        warn_once_of_an_unconfigured_proxy(app)
    app.after_request(add_security_headers)
    app.after_request(keep_access_codes_out_of_caches)


def warn_once_of_an_unconfigured_proxy(app: Flask) -> None:
    """Log once when a request carries X-Forwarded-For although no proxy is trusted.

    Behind a proxy with PROXY_COUNT at 0 every client has the proxy's address: the API's
    allow-list admits whoever the proxy admits (everyone, for a proxy on loopback), and each
    rate limit counts all clients as one. A proxy on loopback is the likeliest case, so the
    peer's address does not matter. Once per process: the log should not grow with the traffic.
    """
    warned = threading.Event()

    def warn() -> None:
        if warned.is_set() or "X-Forwarded-For" not in request.headers:
            return
        warned.set()
        log.warning(
            "Requests carry X-Forwarded-For but PROXY_COUNT is 0 (this one from %s): every "
            "client seems to have the proxy's address, so the API's address allow-list admits "
            "whoever the proxy does and rate limits count all clients as one. Set "
            "PORTAL_PROXY_COUNT to the number of proxies in front of the portal "
            "(docs/deployment.md). Logged once per process.",
            request.remote_addr,
        )

    app.before_request(warn)


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
