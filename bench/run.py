"""Tickets per second of the portal against the ceiling of its stack, on loopback, with wrk.

    .venv/bin/python -m bench.run                      # every scenario, 3 rounds of 10 s
    .venv/bin/python -m bench.run --scenarios api_guest --rounds 1 --duration 5

Both apps run under gunicorn with the repo's gunicorn.conf.py and 2 workers, side by side;
wrk drives one app at a time, alternating ceiling-portal-portal-ceiling, so that drift in the
machine's speed touches both alike. The portal runs in the configuration a user gets: its web
workers deliver a ticket's email after the commit, as .eml files in its MAIL_EML_DIR. Only
answers that prove a ticket was created count (the API's success JSON, the form's redirect to
a page showing the ticket, the view page showing it), and a portal ticket counts only once its
messages have been written: after each round the mail directory is given a short drain, then
the rows and .eml files added are checked against the proofs.
"""

import argparse
import http.client
import json
import os
import platform
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import portal as portal_package
from bench import ceiling_app, seed
from bench.serving import (
    FILE_IO_FIELDS,
    REPO,
    Server,
    cpu_seconds,
    file_io,
    peak_rss_mib,
    portal_environment,
)

WRK_DIR = Path(__file__).resolve().parent / "wrk"
VIEWED_TICKETS = 1000
WARM_UP_SECONDS = 2
# wrk is stopped by its own -d; this only catches a wrk that hangs.
WRK_GRACE_SECONDS = 30
# After wrk stops, the workers' after-commit delivery finishes what is queued. The drain waits
# until the mail directory stops growing, and no longer than this: a backlog that takes longer
# is mail the web tier did not keep up with, and the round's file check fails.
DRAIN_SECONDS = 10.0
DRAIN_POLL_SECONDS = 0.1
DRAIN_QUIET_SECONDS = 1.0

MESSAGE = (
    "Hello,\n\nsince this morning the website shows an error 500 on every page. "
    "Nothing was changed on our side. Could you have a look?\n\nThanks,\nGus"
)


@dataclass
class Target:
    """What wrk sends to one app for one scenario, and what proves success."""

    script: str
    method: str = "GET"
    lines: list[str] = field(default_factory=list)  # "path<TAB>proof" for single.lua
    body: str = ""
    form_path: str = ""  # form.lua: the page with the form
    form_fields: str = ""  # form.lua: the visible fields, url-encoded
    table: str = "ticket"
    # .eml files each ticket must produce; the ceiling sends no mail.
    messages_per_ticket: int = 0


@dataclass
class Scenario:
    name: str
    title: str
    portal: Target
    ceiling: Target
    creates: bool = True


@dataclass
class Round:
    """What one wrk run of one app did, the drain after it included."""

    result: dict
    rows_added: int
    eml_added: int
    drain_seconds: float
    cpu: float
    io: dict[str, int]

    def counted(self, messages_per_ticket: int) -> int:
        """Proven tickets whose messages were written: all of them, unless files are missing."""
        if not messages_per_ticket:
            return self.result["proved"]
        return min(self.result["proved"], self.eml_added // messages_per_ticket)


@dataclass
class Tally:
    messages_per_ticket: int = 0
    proved: int = 0
    counted: int = 0
    refused: int = 0
    requests: int = 0
    socket_errors: int = 0
    seconds: float = 0.0
    rows_added: int = 0
    eml_added: int = 0
    drain_seconds: float = 0.0
    cpu_seconds: float = 0.0
    file_io: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FILE_IO_FIELDS, 0))
    latencies: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)

    def add(self, done: Round) -> None:
        result = done.result
        seconds = result["duration_us"] / 1e6
        counted = done.counted(self.messages_per_ticket)
        self.rates.append(counted / seconds)
        self.cpu_seconds += done.cpu
        for key, value in done.io.items():
            self.file_io[key] += value
        self.proved += result["proved"]
        self.counted += counted
        self.refused += result["refused"]
        self.requests += result["requests"]
        self.socket_errors += sum(result["errors"].values())
        self.seconds += seconds
        self.rows_added += done.rows_added
        self.eml_added += done.eml_added
        self.drain_seconds = max(self.drain_seconds, done.drain_seconds)
        self.latencies += result["latencies"]

    @property
    def per_second(self) -> float:
        return self.counted / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ticket_fields(**extra) -> dict[str, str]:
    return {"subject": "Website shows error 500", "message": MESSAGE, "priority": "Medium", **extra}


def api_fields(seeded: seed.Seeded) -> tuple[dict, dict, dict]:
    """The API's credentials, a guest's ticket and a client's ticket (service, custom field)."""
    credentials = {
        "action": "OpenTicket",
        "identifier": seeded.identifier,
        "secret": seeded.secret,
        "responsetype": "json",
    }
    guest = ticket_fields(name="Gus Guest", email="gus@example.com")
    client = ticket_fields(
        clientid=str(seeded.client),
        serviceid=str(seeded.service),
        customfields=seed.custom_fields_parameter({seeded.custom_field: "web1.example.com"}),
    )
    return credentials, guest, client


def messages_per_ticket(department_email: str, *, noemail: bool = False) -> int:
    """The requester's "ticket opened" message, and the department's notice if it has an address.

    Every requester here has an address and no department turns its autoresponder off.
    """
    return 0 if noemail else 1 + bool(department_email)


def scenarios(seeded: seed.Seeded, viewed_portal: list, viewed_ceiling: list) -> list[Scenario]:
    credentials, guest, client = api_fields(seeded)
    success = '"result":"success"'
    guest_messages = messages_per_ticket(seed.GUEST_DEPARTMENT_EMAIL)

    def api(department: int, fields: dict, messages: int) -> Target:
        body = urlencode({**credentials, "deptid": department, **fields})
        return Target(
            "single.lua",
            "POST",
            [f"/includes/api.php\t{success}"],
            body,
            messages_per_ticket=messages,
        )

    def ceiling_insert(department: int, fields: dict) -> Target:
        body = urlencode({"deptid": department, **fields})
        return Target("single.lua", "POST", [f"/ticket\t{success}"], body, table="ceiling_ticket")

    form_fields = urlencode({**guest, "deptid": seeded.guest_department, "action": "submit"})
    form_target = Target(
        "form.lua",
        form_path=f"/submitticket?deptid={seeded.guest_department}",
        form_fields=form_fields,
        messages_per_ticket=guest_messages,
    )
    return [
        Scenario(
            "api_guest",
            "API OpenTicket, guest",
            api(seeded.guest_department, guest, guest_messages),
            ceiling_insert(seeded.guest_department, guest),
        ),
        Scenario(
            "api_guest_noemail",
            "API OpenTicket, guest, noemail=1 (no mail)",
            api(
                seeded.guest_department,
                {**guest, "noemail": "1"},
                messages_per_ticket(seed.GUEST_DEPARTMENT_EMAIL, noemail=True),
            ),
            ceiling_insert(seeded.guest_department, guest),
        ),
        Scenario(
            "api_client",
            "API OpenTicket, client + service + custom field",
            api(
                seeded.client_department, client, messages_per_ticket(seed.CLIENT_DEPARTMENT_EMAIL)
            ),
            ceiling_insert(seeded.client_department, client),
        ),
        Scenario(
            "form_guest",
            "Form: GET form, POST, follow redirect",
            form_target,
            Target(
                "form.lua", form_path="/submit", form_fields=form_fields, table="ceiling_ticket"
            ),
        ),
        Scenario(
            "form_guest_csrf",
            "Form, against a ceiling that also issues and checks a CSRF token",
            form_target,
            Target(
                "form.lua",
                form_path="/submit-csrf",
                form_fields=form_fields,
                table="ceiling_ticket",
            ),
        ),
        Scenario(
            "view",
            "View a ticket by tid and access code",
            Target(
                "single.lua",
                lines=[
                    f"/viewticket?{urlencode({'tid': tid, 'c': code})}\t{subject}"
                    for tid, code, subject in viewed_portal
                ],
            ),
            Target(
                "single.lua",
                lines=[
                    f"/ticket?{urlencode({'tid': tid, 'c': code})}\t{subject}"
                    for tid, code, subject in viewed_ceiling
                ],
                table="ceiling_ticket",
            ),
            creates=False,
        ),
    ]


def run_wrk(server: Server, target: Target, seconds: int, connections: int, scratch: Path) -> dict:
    targets = scratch / "targets.txt"
    targets.write_text("\n".join(target.lines) + "\n")
    body = scratch / "body.txt"
    body.write_text(target.body)
    result = scratch / "result.json"
    result.unlink(missing_ok=True)
    environment = {
        "BENCH_WRK_DIR": str(WRK_DIR),
        "BENCH_METHOD": target.method,
        "BENCH_TARGETS": str(targets),
        "BENCH_BODY_FILE": str(body) if target.body else "",
        "BENCH_FORM_PATH": target.form_path,
        "BENCH_FORM_FIELDS": target.form_fields,
        "BENCH_RESULT": str(result),
        "PATH": "/usr/bin:/bin",
    }
    command = [
        "wrk",
        # One connection per thread: each thread's responses answer its own last request.
        f"--threads={connections}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=10s",
        f"--script={WRK_DIR / target.script}",
        server.base_url,
    ]
    subprocess.run(
        command,
        env=environment,
        check=True,
        capture_output=True,
        timeout=seconds + WRK_GRACE_SECONDS,
    )
    return json.loads(result.read_text())


def row_count(database: Path, table: str) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def eml_count(directory: Path | None) -> int:
    if directory is None:
        return 0
    try:
        with os.scandir(directory) as entries:
            return sum(1 for entry in entries if entry.name.endswith(".eml"))
    except FileNotFoundError:
        return 0


def drain(directory: Path | None) -> tuple[int, float]:
    """Wait until the mail directory has stopped growing; its .eml count and the seconds waited."""
    started = time.monotonic()
    count, changed = eml_count(directory), started
    if directory is None:
        return count, 0.0
    while True:
        time.sleep(DRAIN_POLL_SECONDS)
        now = time.monotonic()
        latest = eml_count(directory)
        if latest != count:
            count, changed = latest, now
        if now - changed >= DRAIN_QUIET_SECONDS or now - started >= DRAIN_SECONDS:
            # The quiet time at the end is the drain's own way to notice the end, not the
            # portal's: only the time until the last file arrived is reported.
            return count, changed - started


def route_exists(server: Server, path: str) -> bool:
    """False while the portal does not have the endpoint yet."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", path)
    status = connection.getresponse().status
    connection.close()
    return status not in (404,)


def describe_machine(label: str = "") -> dict:
    def output(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, cwd=REPO).stdout.strip()
        except OSError:
            return ""

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = output("git", "rev-parse", "--short", "HEAD")
    if commit:
        commit += " + local changes" if output("git", "status", "--porcelain") else ""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit or "not a git checkout",
        "label": label,
        # Which tree's portal was measured: a copy of a commit has no git of its own.
        "portal": str(Path(portal_package.__file__).resolve().parent),
        "cpu": f"{output('nproc')} x {model}",
        "python": platform.python_version(),
        "wrk": output("wrk", "--version").splitlines()[0] if shutil.which("wrk") else "missing",
    }


def report(machine: dict, results: dict, settings: dict, peak_rss: dict[str, float]) -> str:
    lines = [
        f"{machine['date']}, commit {machine['commit']}, {machine['cpu']}, "
        f"Python {machine['python']}, portal from {machine['portal']}",
        *([f"label: {machine['label']}"] if machine.get("label") else []),
        f"gunicorn {settings['workers']} workers per app (gunicorn.conf.py's class); "
        f"wrk {settings['connections']} connections; "
        f"{settings['rounds']} rounds x {settings['duration']} s per app and scenario; "
        f"portal settings changed: {', '.join(settings['portal_env']) or 'none'}",
        "",
        "| scenario | app | per s | p50 ms | p99 ms | proved | refused | rows added "
        "| eml per ticket (expected) | drain s | worker CPU ms each | portal/ceiling "
        "| by round | by CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |",
    ]
    for entry in results.values():
        if "missing" in entry:
            lines.append(
                f"| {entry['title']} | portal | not measured: {entry['missing']} "
                "| | | | | | | | | | | |"
            )
            continue
        ceiling, portal = entry["ceiling"], entry["portal"]
        ratio = portal["per_second"] / ceiling["per_second"] if ceiling["per_second"] else 0
        # Each round's portal run beside the ceiling run next to it in time: the spread shows
        # how much the machine's speed moved during the scenario.
        by_round = " ".join(
            f"{p / c:.2f}" if c else "-"
            for p, c in zip(portal["rates"], ceiling["rates"], strict=True)
        )
        cpu = portal["worker_cpu_ms_per_proof"]
        by_cpu = ceiling["worker_cpu_ms_per_proof"] / cpu if cpu else 0
        for app, tally in (("ceiling", ceiling), ("portal", portal)):
            mine = app == "portal"
            eml = f"{tally['eml_per_ticket']:.2f} ({tally['expected_eml_per_ticket']})"
            drained = f"{tally['drain_seconds']:.1f}"
            lines.append(
                f"| {entry['title']} | {app} | {tally['per_second']:.0f} | {tally['p50_ms']:.1f} "
                f"| {tally['p99_ms']:.1f} | {tally['proved']} | {tally['refused']} "
                f"| {tally['rows_added']} | {eml if mine else ''} | {drained if mine else ''} "
                f"| {tally['worker_cpu_ms_per_proof']:.1f} "
                # Three places, so that a ratio just under a target is not rounded onto it.
                f"| {f'{ratio:.3f}' if mine else ''} | {by_round if mine else ''} "
                f"| {f'{by_cpu:.2f}' if mine else ''} |"
            )
    lines += [
        "",
        "Workers' peak RSS (the largest VmHWM among an app's workers, read before they stop): "
        + ", ".join(f"{app} {mib:.1f} MiB" for app, mib in peak_rss.items()),
        "",
        "Workers' file I/O per proof (database, WAL, attachments, mail files; not sockets):",
        "",
        "| scenario | app | read calls | write calls | KB written |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for entry in results.values():
        if "missing" in entry:
            continue
        for app in ("ceiling", "portal"):
            tally = entry[app]
            lines.append(
                f"| {entry['title']} | {app} | {tally['file_reads_per_proof']:.1f} "
                f"| {tally['file_writes_per_proof']:.1f} | {tally['kb_written_per_proof']:.1f} |"
            )
    return "\n".join(lines)


def tally_summary(tally: Tally) -> dict:
    return {
        "per_second": tally.per_second,
        "p50_ms": tally.percentile_ms(0.50) or 0.0,
        "p99_ms": tally.percentile_ms(0.99) or 0.0,
        "mean_ms": 1000 * statistics.fmean(tally.latencies) if tally.latencies else 0.0,
        "proved": tally.proved,
        "counted": tally.counted,
        "refused": tally.refused,
        "requests": tally.requests,
        "socket_errors": tally.socket_errors,
        "seconds": round(tally.seconds, 2),
        "rows_added": tally.rows_added,
        "eml_added": tally.eml_added,
        "expected_eml_per_ticket": tally.messages_per_ticket,
        "eml_per_ticket": round(tally.eml_added / tally.rows_added, 3) if tally.rows_added else 0,
        "drain_seconds": round(tally.drain_seconds, 2),
        "rates": [round(rate, 1) for rate in tally.rates],
        # Less sensitive than wall-clock rates to whatever else the machine is running. The
        # drain is included: delivering a ticket's mail is part of what the ticket costs.
        "worker_cpu_ms_per_proof": 1000 * tally.cpu_seconds / tally.proved if tally.proved else 0,
        # Unlike the times, these hardly move with the machine's load: they show the work.
        "file_reads_per_proof": per_proof(tally.file_io["syscr"], tally),
        "file_writes_per_proof": per_proof(tally.file_io["syscw"], tally),
        "kb_written_per_proof": per_proof(tally.file_io["wchar"] / 1024, tally),
    }


def per_proof(amount: float, tally: Tally) -> float:
    return round(amount / tally.proved, 1) if tally.proved else 0.0


def measure_round(
    server: Server,
    target: Target,
    database: Path,
    mail_dir: Path | None,
    seconds: int,
    connections: int,
    scratch: Path,
) -> Round:
    rows_before = row_count(database, target.table)
    eml_before = eml_count(mail_dir)
    workers = server.worker_pids()
    cpu_before, io_before = cpu_seconds(workers), file_io(workers)
    result = run_wrk(server, target, seconds, connections, scratch)
    eml_after, drain_seconds = drain(mail_dir)
    io_after = file_io(workers)
    return Round(
        result=result,
        rows_added=row_count(database, target.table) - rows_before,
        eml_added=eml_after - eml_before,
        drain_seconds=drain_seconds,
        cpu=cpu_seconds(workers) - cpu_before,
        io={key: io_after[key] - io_before[key] for key in FILE_IO_FIELDS},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenarios",
        default="api_guest,api_guest_noemail,api_client,form_guest,form_guest_csrf,view",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app")
    parser.add_argument("--workdir", type=Path, help="default: a new directory under /tmp")
    parser.add_argument("--label", default="", help="a note kept with the results")
    parser.add_argument(
        "--portal-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra setting for the portal, e.g. PORTAL_MAIL_DELIVER_AFTER_COMMIT=false; "
        "the default is the configuration a user gets",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    wanted = args.scenarios.split(",")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="portal-bench-", dir="/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    extra = dict(setting.split("=", 1) for setting in args.portal_env)
    portal_env = portal_environment(workdir / "portal", **extra)
    mail_dir = Path(portal_env["PORTAL_MAIL_EML_DIR"])
    ceiling_db = workdir / "ceiling" / "ceiling.sqlite3"
    ceiling_db.parent.mkdir(parents=True, exist_ok=True)
    ceiling_env = {
        "CEILING_DATABASE_URI": f"sqlite:///{ceiling_db}",
        "CEILING_SECRET_KEY": secrets.token_hex(32),
    }
    portal_db = workdir / "portal" / "portal.sqlite3"

    print(f"workdir {workdir}", flush=True)
    seeded = seed.seed_portal(portal_env)
    viewed_portal = seed.portal_tickets(portal_env, seeded.guest_department, VIEWED_TICKETS)
    os.environ.update(ceiling_env)  # create_schema() reads the URI as the workers will
    ceiling_app.create_schema()
    viewed_ceiling = seed.ceiling_tickets(ceiling_db, VIEWED_TICKETS)

    portal = Server(
        "portal", "portal:create_app()", portal_env, args.workers, log_path=workdir / "portal.log"
    )
    ceiling = Server(
        "ceiling",
        "bench.ceiling_app:create_app()",
        ceiling_env,
        args.workers,
        log_path=workdir / "ceiling.log",
    )
    servers = {"portal": portal, "ceiling": ceiling}
    databases = {"portal": portal_db, "ceiling": ceiling_db}
    mail_dirs = {"portal": mail_dir, "ceiling": None}
    results: dict[str, dict] = {}
    peak_rss: dict[str, float] = {}
    scratch = workdir / "wrk"
    scratch.mkdir(exist_ok=True)
    try:
        portal.start()
        ceiling.start()
        for scenario in scenarios(seeded, viewed_portal, viewed_ceiling):
            if scenario.name not in wanted:
                continue
            probe = scenario.portal.form_path or scenario.portal.lines[0].split("\t")[0]
            if not route_exists(portal, probe):
                results[scenario.name] = {
                    "title": scenario.title,
                    "missing": f"{probe.split('?')[0]} answers 404",
                }
                print(f"{scenario.name}: {probe} answers 404, not measured", flush=True)
                continue
            targets = {"portal": scenario.portal, "ceiling": scenario.ceiling}
            for app in ("ceiling", "portal"):
                run_wrk(servers[app], targets[app], WARM_UP_SECONDS, args.connections, scratch)
                drain(mail_dirs[app])  # the warm-up's mail is not the first round's
            tallies = {app: Tally(targets[app].messages_per_ticket) for app in servers}
            for round_number in range(args.rounds):
                order = ("ceiling", "portal") if round_number % 2 == 0 else ("portal", "ceiling")
                for app in order:
                    done = measure_round(
                        servers[app],
                        targets[app],
                        databases[app],
                        mail_dirs[app],
                        args.duration,
                        args.connections,
                        scratch,
                    )
                    tallies[app].add(done)
                    seconds = done.result["duration_us"] / 1e6
                    print(
                        f"{scenario.name} round {round_number + 1} {app}: "
                        f"{done.counted(targets[app].messages_per_ticket) / seconds:.0f}/s, "
                        f"{done.result['refused']} refused, {done.rows_added} rows, "
                        f"{done.eml_added} eml files",
                        flush=True,
                    )
            results[scenario.name] = {
                "title": scenario.title,
                **{app: tally_summary(tally) for app, tally in tallies.items()},
            }
            for app, server in servers.items():
                # Cumulative: the peak so far, so a scenario that raises it shows where.
                results[scenario.name][app]["peak_rss_mib"] = round(
                    peak_rss_mib(server.worker_pids()), 1
                )
        peak_rss = {
            app: round(peak_rss_mib(server.worker_pids()), 1) for app, server in servers.items()
        }
    finally:
        portal.stop()
        ceiling.stop()

    settings = {
        "rounds": args.rounds,
        "duration": args.duration,
        "connections": args.connections,
        "workers": args.workers,
        "portal_env": args.portal_env,
    }
    machine = describe_machine(args.label)
    print()
    print(report(machine, results, settings, peak_rss))
    problems = row_check(results, args.connections * args.rounds * 2)
    for problem in problems:
        print(f"ROW CHECK: {problem}")
    (workdir / "results.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "settings": settings,
                "results": results,
                "worker_peak_rss_mib": peak_rss,
                "problems": problems,
            },
            indent=2,
        )
    )
    print(f"\nresults in {workdir / 'results.json'}")
    return 1 if problems else 0


def row_check(results: dict, in_flight_allowance: int) -> list[str]:
    """Rows must match the proofs, and .eml files the rows.

    Rows may exceed the proofs by at most the requests in flight when wrk stopped; each row
    added must have written exactly its messages by the end of its round's drain.
    """
    problems = []
    for name, entry in results.items():
        if "missing" in entry:
            continue
        for app in ("portal", "ceiling"):
            tally = entry[app]
            creates = name != "view"
            expected = tally["proved"] if creates else 0
            surplus = tally["rows_added"] - expected
            if surplus < 0 or surplus > (in_flight_allowance if creates else 0):
                problems.append(
                    f"{name} {app}: {tally['rows_added']} rows added, {expected} proved"
                )
            expected_eml = tally["rows_added"] * tally["expected_eml_per_ticket"]
            if tally["eml_added"] != expected_eml:
                problems.append(
                    f"{name} {app}: {tally['eml_added']} .eml files written, {expected_eml} "
                    f"expected for {tally['rows_added']} rows"
                )
    return problems


if __name__ == "__main__":
    sys.exit(main())
