"""CPU per request of the benchmark's scenarios in one process, through Flask's test client.

Finds where a request's time goes without gunicorn, wrk or the machine's load in the way:
`python -m bench.profile_requests` prints the CPU ms per ticket of each scenario (threads
included, so the after-commit delivery counts); `--profile api_guest` runs pyinstrument
(`pip install pyinstrument`, not a dependency of the portal) over one scenario.
"""

import argparse
import re
import sys
import tempfile
import time
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

from bench import seed
from bench.run import ticket_fields
from bench.serving import portal_environment

HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')


def _hidden_fields(page: str) -> dict[str, str]:
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
    credentials = {
        "action": "OpenTicket",
        "identifier": seeded.identifier,
        "secret": seeded.secret,
        "responsetype": "json",
    }
    guest = ticket_fields(name="Gus Guest", email="gus@example.com")
    client_fields = ticket_fields(
        clientid=str(seeded.client),
        serviceid=str(seeded.service),
        customfields=seed.custom_fields_parameter({seeded.custom_field: "web1.example.com"}),
    )

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
        fields = {**_hidden_fields(page), **guest, "deptid": seeded.guest_department}
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
        "view": view,
    }


def measure(app, call, count: int) -> float:
    from portal.mail import relay_of

    relay = relay_of(app)
    for _ in range(10):
        call()
    relay.wait(30)
    started = time.process_time()
    for _ in range(count):
        call()
    relay.wait(30)
    return 1000 * (time.process_time() - started) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scenarios", default="api_guest,api_guest_noemail,api_client,form_guest,view"
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
        for name in args.scenarios.split(","):
            print(f"{name:20s} {measure(app, calls[name], args.count):6.2f} ms CPU per ticket")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
