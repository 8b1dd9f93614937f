"""CPU per request of the benchmark's scenarios by direct WSGI calls, portal against ceiling.

No gunicorn, no wrk and no test client: each app is called with a prepared WSGI environ in one
process, in short alternating batches, and the CPU time per request of each is reported. Both
apps pay the same (small) harness cost, so the ratio is closer to what `bench.run` measures
than `bench.profile_requests`' is, and it moves far less with the machine's load:

    .venv/bin/python -m bench.wsgi_calls --scenarios view,api_guest --count 10000

The portal runs in its default configuration: the after-commit delivery's thread writes each
ticket's .eml files, and a portal batch ends when it has, so that its CPU time is the batch's.

The form scenarios count tickets, not requests: a guest's browser GETs the form, POSTs it with
the page's hidden fields as multipart, and GETs the page the redirect names, keeping the
session cookie between them, as bench.run's form.lua does. Only the CPU time of the app counts
there (its own and its delivery thread's); finding the fields in the page does not.

Use it to compare two versions of the portal; `bench.run` gives the figures of record.
"""

import argparse
import functools
import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench import ceiling_app, seed
from bench.profile_requests import alternated, build, hidden_fields
from bench.run import api_fields, ticket_fields
from portal.mail import relay_of

BATCH = 50
# Long enough for a batch's mail; a relay that takes longer is reported as a failure.
RELAY_WAIT_SECONDS = 30


def settle(app) -> None:
    """Wait until the portal's after-commit delivery has written what the batch queued."""
    relay = relay_of(app)
    if relay is not None and not relay.wait(RELAY_WAIT_SECONDS):
        raise RuntimeError(f"mail delivery still busy after {RELAY_WAIT_SECONDS} s")


def environ(
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    content_type: str = "application/x-www-form-urlencoded",
    cookie: str = "",
) -> dict:
    """A WSGI environ as gunicorn would pass it for a form POST or a GET."""
    return {
        **({"HTTP_COOKIE": cookie} if cookie else {}),
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def requests_of(scenario: str, seeded, viewed, ceiling_viewed) -> tuple[list, list, bytes]:
    """(portal requests, ceiling requests, what every proving answer contains)."""
    if scenario == "view":
        portal = [("GET", "/viewticket", urlencode({"tid": t, "c": c}), b"") for t, c, _ in viewed]
        ceiling = [
            ("GET", "/ticket", urlencode({"tid": t, "c": c}), b"") for t, c, _ in ceiling_viewed
        ]
        return portal, ceiling, b"Viewed ticket"
    credentials, guest, client_fields = api_fields(seeded)
    department, fields = {
        "api_guest": (seeded.guest_department, guest),
        "api_guest_noemail": (seeded.guest_department, {**guest, "noemail": "1"}),
        "api_client": (seeded.client_department, client_fields),
    }[scenario]
    body = urlencode({**credentials, "deptid": department, **fields}).encode()
    guest_body = urlencode(
        {"deptid": seeded.guest_department, **ticket_fields(name="Gus", email="g@example.com")}
    ).encode()
    return (
        [("POST", "/includes/api.php", "", body)],
        [("POST", "/ticket", "", guest_body)],
        b"success",
    )


BOUNDARY = "----benchFormBoundary7MA4YWxkTrZu0gW"


def multipart(fields: dict[str, str], file_field: str) -> bytes:
    """As a browser sends a form with an unused file input: its empty part comes last."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n")
    return "".join(parts).encode()


class FormGuest:
    """One browser's way through a form, one ticket per call, its cookies kept between calls."""

    def __init__(self, app, form_path: str, fields: dict[str, str]):
        self.app, self.fields = app, fields
        self.form_path, _, self.form_query = form_path.partition("?")
        self.cookies: dict[str, str] = {}
        # This thread's CPU seconds inside the app: reading a page's fields is the browser's
        # work, and the portal's page is far larger than the ceiling's.
        self.app_seconds = 0.0

    def call(self, method: str, path: str, query: str = "", body: bytes = b"", **kind):
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = int(status[:3]), headers

        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        request = environ(method, path, query, body, cookie=cookie, **kind)
        started = time.thread_time()
        response = self.app(request, start_response)
        data = b"".join(response)
        getattr(response, "close", lambda: None)()
        self.app_seconds += time.thread_time() - started
        for name, value in answer["headers"]:
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name.strip()] = rest.split(";", 1)[0]
            elif name.lower() == "location":
                answer["location"] = value
        return answer["status"], answer.get("location"), data

    def ticket(self) -> None:
        status, _, page = self.call("GET", self.form_path, self.form_query)
        assert status == 200, status
        text = page.decode()
        action = urlsplit(_FORM_ACTION.search(text).group(1))
        fields = {**hidden_fields(text), **self.fields}
        body = multipart(fields, "attachments")
        status, location, _ = self.call(
            "POST", action.path, action.query, body, content_type=_MULTIPART
        )
        assert status == 303 and location, status
        confirmation = urlsplit(location)
        status, _, page = self.call("GET", confirmation.path, confirmation.query)
        assert status == 200, status


_FORM_ACTION = re.compile(r'<form method="post" action="([^"]*)"[^>]*multipart/form-data')
_MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


# The ceiling's form each form scenario is compared with, as in bench.run.
FORM_CEILINGS = {"form_guest": "/submit", "form_guest_csrf": "/submit-csrf"}


def form_guests(app, ceiling, seeded, ceiling_form: str) -> tuple[FormGuest, FormGuest]:
    """A guest on the portal's form and one on the ceiling's, sending the same fields."""
    fields = {
        **ticket_fields(name="Gus Guest", email="gus@example.com"),
        "deptid": str(seeded.guest_department),
        "action": "submit",
    }
    return (
        FormGuest(app, f"/submitticket?deptid={seeded.guest_department}", fields),
        FormGuest(ceiling, ceiling_form, fields),
    )


def form_calls(app, ceiling, seeded, scenario: str):
    """(portal, ceiling): each measures CPU ms per ticket over a given number of tickets."""
    portal, ceiling_guest = form_guests(app, ceiling, seeded, FORM_CEILINGS[scenario])
    return (
        functools.partial(cpu_ms_per_ticket, portal),
        functools.partial(cpu_ms_per_ticket, ceiling_guest),
    )


def cpu_ms_per_ticket(guest: FormGuest, count: int) -> float:
    """The app's CPU ms per ticket over `count` tickets, the browser's side left out.

    The app's share of this thread, plus every other thread's CPU (the mail delivery's).
    """
    before = guest.app_seconds
    process_before, thread_before = time.process_time(), time.thread_time()
    for _ in range(count):
        guest.ticket()
    settle(guest.app)
    other_threads = (time.process_time() - process_before) - (time.thread_time() - thread_before)
    return 1000 * (guest.app_seconds - before + other_threads) / count


def cpu_ms_per_request(app, requests: list, proof: bytes, count: int) -> float:
    def start_response(status, headers, exc_info=None):
        assert status.startswith("200"), status

    started = time.process_time()
    for number in range(count):
        method, path, query, body = requests[number % len(requests)]
        answer = app(environ(method, path, query, body), start_response)
        data = b"".join(answer)
        assert proof in data, data[:300]
        getattr(answer, "close", lambda: None)()
    settle(app)
    return 1000 * (time.process_time() - started) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scenarios",
        default="api_guest,api_guest_noemail,api_client,form_guest,form_guest_csrf,view",
    )
    parser.add_argument(
        "--count", type=int, default=10000, help="requests (form: tickets) per app and scenario"
    )
    parser.add_argument("--portal-env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.portal_env)
    with tempfile.TemporaryDirectory(prefix="portal-wsgi-calls-") as directory:
        app, seeded, viewed = build(Path(directory), extra)
        database = Path(directory) / "ceiling.sqlite3"
        os.environ["CEILING_DATABASE_URI"] = f"sqlite:///{database}"
        ceiling_app.create_schema()
        ceiling = ceiling_app.create_app()
        ceiling_viewed = seed.ceiling_tickets(database, len(viewed))
        for name in args.scenarios.split(","):
            if name in FORM_CEILINGS:
                unit = "ticket"
                portal_call, ceiling_call = form_calls(app, ceiling, seeded, name)
            else:
                unit = "request"
                portal_requests, ceiling_requests, proof = requests_of(
                    name, seeded, viewed, ceiling_viewed
                )
                portal_call = functools.partial(cpu_ms_per_request, app, portal_requests, proof)
                ceiling_call = functools.partial(
                    cpu_ms_per_request, ceiling, ceiling_requests, proof
                )
            portal_call(100)
            ceiling_call(100)
            # Short alternating batches: a shared machine's speed drifts, and a batch of each
            # app side by side sees the same speed.
            batches = max(1, args.count // BATCH)
            portal_ms, ceiling_ms = alternated(
                functools.partial(portal_call, BATCH),
                functools.partial(ceiling_call, BATCH),
                batches,
            )
            print(
                f"{name:18s} portal {portal_ms:.3f} ms, ceiling {ceiling_ms:.3f} ms CPU per"
                f" {unit} ({batches} alternating batches of {BATCH}); ratio"
                f" {ceiling_ms / portal_ms:.2f}"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
