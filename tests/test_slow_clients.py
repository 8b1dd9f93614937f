"""The production server keeps answering while a few clients trickle their request bodies.

gunicorn runs as scripts/serve and gunicorn.conf.py run it; clients that send their bodies a
byte at a time hold a thread each, not a whole worker, so other visitors are still served.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SLOW_CLIENTS = 3  # more than the workers: with sync workers, two already froze the site


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    environment = {
        **os.environ,
        "PORTAL_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "PORTAL_SECRET_KEY": "slow-clients-test",
        "PORTAL_WORKERS": "2",
        "PORTAL_ACCESS_LOG": "",
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [
            gunicorn,
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "portal:create_app()",
        ],
        cwd=REPO,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(30)


def test_slow_clients_do_not_freeze_the_site(server):
    slow = []
    for _ in range(SLOW_CLIENTS):
        connection = socket.create_connection(("127.0.0.1", server))
        connection.sendall(
            b"POST /markdown-preview HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
            b"message="
        )
        slow.append(connection)
    try:
        time.sleep(0.5)  # every slow client has reached a worker and is being read
        started = time.monotonic()
        answer = urllib.request.urlopen(f"http://127.0.0.1:{server}/", timeout=10)
        waited = time.monotonic() - started
    finally:
        for connection in slow:
            connection.close()

    assert answer.status == 200
    assert waited < 2
