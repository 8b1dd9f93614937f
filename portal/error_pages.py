"""Friendly pages for the errors a person can meet, instead of a bare status line."""

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

EXPLANATIONS = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Not allowed", "You are not allowed to do that."),
    404: ("Not found", "The page or ticket you asked for could not be found."),
    405: ("Not allowed", "That address does not accept this kind of request."),
    413: (
        "Too large",
        "What you sent is larger than this portal accepts. Remove or shrink "
        "some attachments, then send it again.",
    ),
    429: (
        "Too many requests",
        "You have sent too many requests in a short time. Please wait a little and try again.",
    ),
    500: (
        "Something went wrong",
        "The portal could not finish your request. Nothing was saved; please try again.",
    ),
}


def register_error_pages(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_expired)
    app.register_error_handler(HTTPException, error_page)


def csrf_expired(error: CSRFError):
    return render_template(
        "errors/error.html",
        code=400,
        title="The form has expired",
        explanation="For your safety the form must be sent from this site within your "
        "session. Please go back, reload the page and send it again.",
    ), 400


def error_page(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    title, explanation = EXPLANATIONS.get(error.code, (error.name, error.description))
    page = render_template(
        "errors/error.html", code=error.code, title=title, explanation=explanation
    )
    # Keep what the exception says beyond its body, such as Allow on a 405.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return page, error.code, headers
