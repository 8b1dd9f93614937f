"""CPU per request of the API and view scenarios by direct WSGI calls, portal against ceiling.

No gunicorn, no wrk and no test client: each app is called with a prepared WSGI environ in one
process, in short alternating batches, and the CPU time per request of each is reported. Both
apps pay the same (small) harness cost, so the ratio is closer to what `bench.run` measures
than `bench.profile_requests`' is, and it moves far less with the machine's load:

    .venv/bin/python -m bench.wsgi_calls --scenarios view,api_guest --count 10000

Use it to compare two versions of the portal; `bench.run` gives the figures of record.
"""

import argparse
import functools
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench import ceiling_app, seed
from bench.profile_requests import alternated, build
from bench.run import api_fields, ticket_fields

BATCH = 50


def environ(method: str, path: str, query: str = "", body: bytes = b"") -> dict:
    """A WSGI environ as gunicorn would pass it for a form POST or a GET."""
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
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
    return 1000 * (time.process_time() - started) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenarios", default="api_guest,api_guest_noemail,api_client,view")
    parser.add_argument("--count", type=int, default=10000, help="requests per app and scenario")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="portal-wsgi-calls-") as directory:
        # Web workers only queue email here, as in the throughput runs of record.
        app, seeded, viewed = build(Path(directory), {"PORTAL_MAIL_DELIVER_AFTER_COMMIT": "false"})
        database = Path(directory) / "ceiling.sqlite3"
        os.environ["CEILING_DATABASE_URI"] = f"sqlite:///{database}"
        ceiling_app.create_schema()
        ceiling = ceiling_app.create_app()
        ceiling_viewed = seed.ceiling_tickets(database, len(viewed))
        for name in args.scenarios.split(","):
            portal_requests, ceiling_requests, proof = requests_of(
                name, seeded, viewed, ceiling_viewed
            )
            cpu_ms_per_request(app, portal_requests, proof, 100)
            cpu_ms_per_request(ceiling, ceiling_requests, proof, 100)
            # Short alternating batches: this host's speed changes within seconds, and a batch
            # of each app side by side sees the same speed.
            batches = max(1, args.count // BATCH)
            portal_ms, ceiling_ms = alternated(
                functools.partial(cpu_ms_per_request, app, portal_requests, proof, BATCH),
                functools.partial(cpu_ms_per_request, ceiling, ceiling_requests, proof, BATCH),
                batches,
            )
            print(
                f"{name:18s} portal {portal_ms:.3f} ms, ceiling {ceiling_ms:.3f} ms CPU per"
                f" request ({batches} alternating batches of {BATCH}); ratio"
                f" {ceiling_ms / portal_ms:.2f}"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
