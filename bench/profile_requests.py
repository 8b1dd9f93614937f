"""CPU per request of the benchmark's scenarios in one process, through Flask's test client.

Finds where a request's time goes without gunicorn, wrk or the machine's load in the way:
`python -m bench.profile_requests` prints the CPU ms per ticket of each scenario (threads
included, so the after-commit delivery counts) next to the ceiling app's counterpart in the
same process; `--profile api_guest` runs pyinstrument
(`pip install pyinstrument`, not a dependency of the portal) over one scenario.
"""

import argparse
import functools
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

from bench import ceiling_app, seed
from bench.run import api_fields, ticket_fields
from bench.serving import portal_environment

HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')


def hidden_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in HIDDEN.findall(page):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[unescape(name.group(1))] = unescape(value.group(1) if value else "")
    return fields


def build(workdir: Path, extra: dict[str, str]):
    environment = portal_environment(workdir, **extra)
    seeded = seed.seed_portal(environment)
    viewed = seed.portal_tickets(environment, seeded.guest_department, 200)
    config = {key.removeprefix("PORTAL_"): value for key, value in environment.items()}
    from portal import create_app

    app = create_app(config)
    return app, seeded, viewed


def scenarios(app, seeded, viewed):
    client = app.test_client()
    credentials, guest, client_fields = api_fields(seeded)

    def api(department, fields):
        body = urlencode({**credentials, "deptid": department, **fields})

        def call():
            response = client.post(
                "/includes/api.php",
                data=body,
                content_type="application/x-www-form-urlencoded",
            )
            assert b'"result":"success"' in response.data, response.data[:300]

        return call

    def form():
        page = client.get(f"/submitticket?deptid={seeded.guest_department}").get_data(True)
        fields = {**hidden_fields(page), **guest, "deptid": seeded.guest_department}
        fields["action"] = "submit"
        response = client.post("/submitticket", data={**fields, "attachments": []})
        assert response.status_code in (302, 303), response.get_data(True)[:500]
        confirm = client.get(response.headers["Location"])
        assert confirm.status_code == 200

    position = iter(range(10**9))

    def view():
        tid, code, subject = viewed[next(position) % len(viewed)]
        page = client.get(f"/viewticket?{urlencode({'tid': tid, 'c': code})}")
        assert subject in page.get_data(True)

    return {
        "api_guest": api(seeded.guest_department, guest),
        "api_guest_noemail": api(seeded.guest_department, {**guest, "noemail": "1"}),
        "api_client": api(seeded.client_department, client_fields),
        "form_guest": form,
        "form_guest_csrf": form,
        "view": view,
    }


def ceiling_scenarios(workdir: Path, seeded) -> dict:
    """The ceiling app's counterparts, through the same test client, for in-process ratios."""
    os.environ["CEILING_DATABASE_URI"] = f"sqlite:///{workdir / 'ceiling.sqlite3'}"
    ceiling_app.create_schema()
    client = ceiling_app.create_app().test_client()
    guest = {"deptid": seeded.guest_department, **ticket_fields(name="Gus", email="g@example.com")}
    opened = []

    def insert():
        answer = client.post("/ticket", data=guest).get_json()
        opened.append((answer["tid"], answer["c"]))

    def form():
        client.get("/submit")
        response = client.post("/submit", data={**guest, "attachments": []})
        assert client.get(response.headers["Location"]).status_code == 200

    def form_csrf():
        page = client.get("/submit-csrf").get_data(True)
        response = client.post(
            "/submit-csrf", data={**hidden_fields(page), **guest, "attachments": []}
        )
        assert response.status_code == 303, response.status_code
        assert client.get(response.headers["Location"]).status_code == 200

    for _ in range(200):
        insert()
    position = iter(range(10**9))

    def view():
        tid, code = opened[next(position) % 200]
        assert client.get(f"/ticket?{urlencode({'tid': tid, 'c': code})}").status_code == 200

    return {"insert": insert, "form": form, "form_csrf": form_csrf, "view": view}


ALTERNATIONS = 5
# Which ceiling scenario each portal scenario is compared with.
CEILING_OF = {
    "api_guest": "insert",
    "api_guest_noemail": "insert",
    "api_client": "insert",
    "form_guest": "form",
    "form_guest_csrf": "form_csrf",
    "view": "view",
}


def alternated(
    portal: Callable[[], float], ceiling: Callable[[], float], rounds: int
) -> tuple[float, float]:
    """Each app's mean over `rounds` measurements taken in turn.

    Taken in turn so that a change in the machine's speed touches both apps alike.
    """
    portal_total = ceiling_total = 0.0
    for _ in range(rounds):
        portal_total += portal()
        ceiling_total += ceiling()
    return portal_total / rounds, ceiling_total / rounds


def measure(app, call, count: int) -> float:
    from portal.mail import relay_of

    relay = relay_of(app) if app is not None else None
    for _ in range(10):
        call()
    if relay:
        relay.wait(30)
    started = time.process_time()
    for _ in range(count):
        call()
    if relay:
        relay.wait(30)
    return 1000 * (time.process_time() - started) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scenarios",
        default="api_guest,api_guest_noemail,api_client,form_guest,form_guest_csrf,view",
    )
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--profile", help="one scenario to run under pyinstrument")
    parser.add_argument("--portal-env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.portal_env)
    with tempfile.TemporaryDirectory(prefix="portal-profile-") as directory:
        app, seeded, viewed = build(Path(directory), extra)
        calls = scenarios(app, seeded, viewed)
        if args.profile:
            from pyinstrument import Profiler

            call = calls[args.profile]
            measure(app, call, 20)
            profiler = Profiler(interval=0.0002)
            profiler.start()
            for _ in range(args.count):
                call()
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
            return 0
        ceiling = ceiling_scenarios(Path(directory), seeded)
        for name in args.scenarios.split(","):
            slice_size = args.count // ALTERNATIONS
            portal_ms, ceiling_ms = alternated(
                functools.partial(measure, app, calls[name], slice_size),
                functools.partial(measure, None, ceiling[CEILING_OF[name]], slice_size),
                ALTERNATIONS,
            )
            print(
                f"{name:20s} {portal_ms:6.2f} ms CPU per ticket; ceiling {ceiling_ms:5.2f} ms;"
                f" ratio by CPU {ceiling_ms / portal_ms:.2f}"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
