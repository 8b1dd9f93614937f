"""Opening a ticket with 1,000,000 tickets already in the table against 1,000.

    .venv/bin/python -m bench.data_scale                       # 1,000 and 1,000,000
    .venv/bin/python -m bench.data_scale --sizes 1000,100000 --calls 100

Each database is migrated with the portal's migrations, then filled with INSERT ... SELECT
from a recursive CTE, far faster than opening each ticket. open_ticket() and a lookup by tid are
then timed in process, alternating between the databases in rounds, so that the machine's
drift touches both sizes alike. Query plans show which index each query uses.
"""

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

from bench import seed
from bench.serving import portal_environment
from portal.extensions import db
from portal.models import Ticket
from portal.tickets import OpenTicketRequest, TicketSettings, open_ticket

ROUNDS = 3
# tids in the mask's own shape (AAA-nnnnnn), spread over the key space like real ones; the
# six digits are the row number, so they never collide.
BULK_INSERT = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
INSERT INTO ticket (tid, access_code, department_id, client_id, name, email, cc, subject,
                    message, status, priority, created_at, last_reply_at, editor,
                    prevent_client_closure, email_suppressed)
SELECT char(65 + (i * 7) % 26) || char(65 + (i * 13) % 26) || char(65 + (i / 26) % 26)
         || '-' || printf('%06d', i % 1000000) || CASE WHEN i >= 1000000 THEN 'X' ELSE '' END,
       substr(hex(randomblob(4)), 1, 8),
       :department,
       CASE WHEN i % 10 = 0 THEN :client END,
       'Bulk Requester', 'bulk@example.com', '',
       'Bulk ticket ' || i, 'A message of a few lines.',
       CASE WHEN i % 3 = 0 THEN 'Closed' ELSE 'Open' END, 'Medium',
       datetime('2020-01-01', '+' || (i / 20) || ' minutes'),
       datetime('2020-01-01', '+' || (i / 20) || ' minutes'),
       'plain', 0, 0
FROM n
"""


def fill(database: Path, count: int, seeded: seed.Seeded) -> float:
    started = time.perf_counter()
    with sqlite3.connect(database) as connection:
        connection.execute(
            BULK_INSERT,
            {"count": count, "department": seeded.guest_department, "client": seeded.client},
        )
    return time.perf_counter() - started


class Instance:
    """One migrated, filled database, with its app and a statement counter."""

    def __init__(self, workdir: Path, size: int) -> None:
        self.size = size
        self.environment = portal_environment(workdir / f"portal-{size}")
        self.seeded = seed.seed_portal(self.environment)
        self.fill_seconds = fill(workdir / f"portal-{size}" / "portal.sqlite3", size, self.seeded)
        self.app = seed.portal_app(self.environment)
        self.settings = TicketSettings.from_config(self.app.config)
        self.statements: list[str] = []
        self.open_ms: list[float] = []
        self.view_ms: list[float] = []
        self.tids: list[str] = []
        with self.app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)

    def guest_request(self) -> OpenTicketRequest:
        return OpenTicketRequest(
            deptid=str(self.seeded.guest_department),
            subject="Website shows error 500",
            message="Since this morning every page shows an error 500.",
            name="Gus Guest",
            email="gus@example.com",
        )

    def client_request(self) -> OpenTicketRequest:
        return OpenTicketRequest(
            deptid=str(self.seeded.client_department),
            clientid=str(self.seeded.client),
            serviceid=str(self.seeded.service),
            customfields={self.seeded.custom_field: "web1.example.com"},
            subject="Disk full",
            message="The disk is full.",
        )

    def open_tickets(self, calls: int) -> int:
        """Time `calls` tickets, alternately guest and client; statements per ticket."""
        with self.app.app_context():
            self.statements.clear()
            for number in range(calls):
                request = self.guest_request() if number % 2 == 0 else self.client_request()
                db.session.expunge_all()
                started = time.perf_counter()
                opened = open_ticket(db.session, request, self.settings)
                db.session.commit()
                self.open_ms.append(1000 * (time.perf_counter() - started))
                self.tids.append(opened.tid)
            per_ticket = len(self.statements) / calls
            db.session.remove()
        return round(per_ticket, 2)

    def view_lookups(self, calls: int) -> None:
        with self.app.app_context():
            for number in range(calls):
                tid = self.tids[number % len(self.tids)]
                db.session.expunge_all()
                started = time.perf_counter()
                db.session.scalar(select(Ticket).where(Ticket.tid == tid))
                self.view_ms.append(1000 * (time.perf_counter() - started))
            db.session.remove()

    def plans(self) -> dict[str, str]:
        database = Path(
            self.environment["PORTAL_SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        )
        queries = {
            # Only after a drawn number was taken; the insert finds it through the same index.
            "taken-number check": ("SELECT id FROM ticket WHERE tid = ?", ("A",)),
            "view by tid": ("SELECT * FROM ticket WHERE tid = ?", ("A",)),
            "client's tickets": (
                "SELECT * FROM ticket WHERE client_id = ? ORDER BY created_at DESC LIMIT 20",
                (self.seeded.client,),
            ),
            # What mail delivery claims: due outbox rows, oldest first.
            "due mail": (
                "SELECT id FROM outbox_message WHERE status IN ('pending', 'sending') "
                "AND next_attempt_at <= ? ORDER BY id LIMIT 20",
                ("2026-01-01",),
            ),
        }
        with sqlite3.connect(database) as connection:
            return {
                name: "; ".join(
                    row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)
                )
                for name, (sql, parameters) in queries.items()
            }

    def dispose(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"{statistics.median(ordered):.2f} | {statistics.fmean(ordered):.2f} | {p99:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--calls", type=int, default=200, help="tickets per size and round")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="portal-scale-", dir="/tmp"))
    instances = []
    try:
        for size in sizes:
            instance = Instance(workdir, size)
            print(f"{size:,} rows inserted in {instance.fill_seconds:.1f} s", flush=True)
            instances.append(instance)
        statements = {}
        for _ in range(ROUNDS):
            for instance in instances:
                statements[instance.size] = instance.open_tickets(args.calls)
                instance.view_lookups(args.calls)
        print()
        print(
            "| rows before | open_ticket + commit ms: median | mean | p99 "
            "| statements per ticket | view lookup by tid ms: median | mean | p99 |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for instance in instances:
            print(
                f"| {instance.size:,} | {summary(instance.open_ms)} "
                f"| {statements[instance.size]} | {summary(instance.view_ms)} |"
            )
        print()
        for instance in instances:
            for name, plan in instance.plans().items():
                print(f"{instance.size:,} rows, {name}: {plan}")
        for instance in instances:
            instance.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
