"""Starting and stopping gunicorn for a benchmark, and reading a worker's memory from /proc."""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
LOOPBACK = "127.0.0.1"
STARTUP_SECONDS = 30
# gunicorn 25.1 and later open a control socket in the user's home unless told not to: each
# benchmark master would take it over from the one before, and from any gunicorn this user
# already runs on the host.
NO_CONTROL_SOCKET = (
    ["--no-control-socket"]
    if tuple(map(int, re.match(r"(\d+)\.(\d+)", version("gunicorn")).groups())) >= (25, 1)
    else []
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def portal_environment(workdir: Path, **extra: str) -> dict[str, str]:
    """PORTAL_* settings for an instance that lives entirely under workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    return {
        "PORTAL_SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'portal.sqlite3'}",
        "PORTAL_ATTACHMENTS_DIR": str(workdir / "attachments"),
        "PORTAL_HELD_UPLOADS_DIR": str(workdir / "held-uploads"),
        "PORTAL_MAIL_EML_DIR": str(workdir / "mail"),
        "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_BASE_URL": "http://127.0.0.1",
        # One address sends thousands of guest tickets here, which the anti-abuse checks exist
        # to refuse. The limits are raised rather than switched off, so that counting them is
        # still part of what is measured; the minimum time a person needs is lifted.
        "PORTAL_RATELIMIT_GUEST_TICKETS_PER_IP": "1000000 per minute",
        "PORTAL_RATELIMIT_GUEST_TICKETS_PER_EMAIL": "1000000 per minute",
        "PORTAL_GUEST_FORM_MIN_SECONDS": "0",
        **extra,
    }


@dataclass
class Server:
    """A gunicorn master with its workers, on a loopback port of its own."""

    name: str
    app: str
    environment: dict[str, str]
    workers: int = 2
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> "Server":
        log = open(self.log_path or os.devnull, "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            [
                str(GUNICORN),
                "--config",
                str(REPO / "gunicorn.conf.py"),
                "--workers",
                str(self.workers),
                "--bind",
                f"{LOOPBACK}:{self.port}",
                # Both apps restart workers alike; a restart inside a timed run is noise.
                "--max-requests",
                "0",
                *NO_CONTROL_SOCKET,
                self.app,
            ],
            cwd=REPO,
            env={**os.environ, "PORTAL_ACCESS_LOG": "", **self.environment},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self._wait_until_answering()
        return self

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited with {self.process.returncode}")
            try:
                connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=5)
                connection.request("GET", "/")
                connection.getresponse().read()
                connection.close()
                if len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name}: no answer on port {self.port} in {STARTUP_SECONDS} s")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes, threads included, from /proc/<pid>/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        # Fields after the command name, which may contain spaces, start at ") ".
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


# The kernel counts these for read() and write() calls (pread, pwrite and the vectored ones
# too), not for send() and recv(), which is how gunicorn moves HTTP: for a worker they are its
# database's I/O and any file's, not the traffic.
FILE_IO_FIELDS = ("syscr", "syscw", "wchar")


def file_io(pids: list[int]) -> dict[str, int]:
    """Read and write calls and bytes written of processes, from /proc/<pid>/io."""
    total = dict.fromkeys(FILE_IO_FIELDS, 0)
    for pid in pids:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in total:
                total[key] += int(value)
    return total


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak since start or since reset_peak) of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def peak_rss_mib(pids: list[int]) -> float:
    """The largest VmHWM among processes, in MiB: what the biggest of them ever held."""
    return max((memory_kib(pid)["VmHWM"] for pid in pids), default=0) / 1024


def reset_peak(pid: int) -> None:
    """Lower VmHWM to the current RSS (Linux clear_refs 5), so a later peak is this request's."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
