"""Many creators at once: every success has its row, tids are unique, nobody sees "locked"."""

import threading

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Ticket
from portal.tickets import OpenTicketRequest, open_ticket
from tests.core.conftest import encode_attachments

THREADS = 8
TICKETS_PER_THREAD = 40


def test_parallel_creators_lose_nothing(app, make, settings, attachments_dir):
    department_id = make.department().id
    barrier = threading.Barrier(THREADS)
    created: list[tuple[int, str]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def create_many(worker: int) -> None:
        with app.app_context():
            barrier.wait()
            for n in range(TICKETS_PER_THREAD):
                request = OpenTicketRequest(
                    deptid=department_id,
                    subject=f"worker {worker} ticket {n}",
                    message="Parallel",
                    name="Para Lell",
                    email=f"p{worker}@example.com",
                    attachments=encode_attachments((f"w{worker}-{n}.txt", b"x" * n)),
                )
                try:
                    opened = open_ticket(db.session, request, settings)
                    db.session.commit()
                except BaseException as error:  # collected and asserted below
                    db.session.rollback()
                    with lock:
                        failures.append(error)
                    continue
                with lock:
                    created.append((opened.id, opened.tid))
            db.session.remove()

    threads = [threading.Thread(target=create_many, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    db.session.rollback()  # MariaDB's REPEATABLE READ would show the snapshot from before
    assert failures == []
    assert len(created) == THREADS * TICKETS_PER_THREAD
    rows = db.session.execute(select(Ticket.id, Ticket.tid)).all()
    assert sorted(rows) == sorted(created)
    assert len({tid for _, tid in created}) == len(created)
    stored = db.session.scalar(select(func.count()).select_from(Ticket))
    assert stored == THREADS * TICKETS_PER_THREAD
    assert sum(1 for p in attachments_dir.rglob("*") if p.is_file()) == stored
