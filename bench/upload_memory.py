"""How much a 100 MB attachment raises a gunicorn worker's peak memory, via the API and the form.

    .venv/bin/python -m bench.upload_memory            # 100 MB, then a 1 KB control
    .venv/bin/python -m bench.upload_memory --megabytes 20

The portal runs under gunicorn (2 workers, as gunicorn.conf.py runs them) with limits raised
for the test. Before each upload every worker's peak RSS (VmHWM) is reset to its current RSS through
/proc/<pid>/clear_refs; afterwards the largest VmHWM - RSS-before among the workers is the
upload's cost. A file that is streamed to disk costs a few MB of buffers; one held whole costs
its size at least.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench import seed
from bench.serving import Server, memory_kib, portal_environment, reset_peak

CHUNK = 1024 * 1024
TARGET_INCREASE_MB = 20
WARM_UP_REQUESTS = 8


def write_random_file(path: Path, size: int) -> None:
    """Random bytes after a PDF's signature: the file is sent as upload.pdf, and the portal
    refuses bytes that are not what the extension says."""
    signature = b"%PDF-1.4\n"
    with open(path, "wb") as out:
        out.write(signature)
        left = size - len(signature)
        while left:
            chunk = os.urandom(min(CHUNK, left))
            out.write(chunk)
            left -= len(chunk)


def multipart(
    fields: list[tuple[str, str]], file_field: str, file_path: Path | None, file_name: str
) -> tuple[str, int, Iterator[bytes]]:
    """A multipart body streamed from disk: its content type, length and chunks."""
    boundary = "bench" + secrets.token_hex(12)
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    )
    file_head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{file_name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = file_path.stat().st_size if file_path else 0
    length = len(head) + len(file_head) + size + len(tail)

    def chunks() -> Iterator[bytes]:
        yield head + file_head
        if file_path:
            with open(file_path, "rb") as source:
                while chunk := source.read(CHUNK):
                    yield chunk
        yield tail

    return f"multipart/form-data; boundary={boundary}", length, chunks()


def send(server: Server, method: str, path: str, headers: dict, body: Iterator[bytes] = ()):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    connection.putrequest(method, path)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    for chunk in body:
        connection.send(chunk)
    response = connection.getresponse()
    answer = (response.status, dict(response.getheaders()), response.read())
    connection.close()
    return answer


class ApiUpload:
    name = "API OpenTicket, multipart attachments[]"

    def __init__(self, server: Server, seeded: seed.Seeded) -> None:
        self.server = server
        self.fields = [
            ("action", "OpenTicket"),
            ("identifier", seeded.identifier),
            ("secret", seeded.secret),
            ("responsetype", "json"),
            ("deptid", str(seeded.guest_department)),
            ("subject", "Big upload"),
            ("message", "See the attachment."),
            ("name", "Una Uploader"),
            ("email", "una@example.com"),
        ]

    def upload(self, file_path: Path | None) -> bool:
        content_type, length, chunks = multipart(
            self.fields, "attachments[]", file_path, "upload.pdf"
        )
        headers = {"Content-Type": content_type, "Content-Length": str(length)}
        status, _, body = send(self.server, "POST", "/includes/api.php", headers, chunks)
        return status == 200 and json.loads(body).get("result") == "success"


class FormUpload:
    name = "Client-area form, multipart attachments"

    def __init__(self, server: Server, seeded: seed.Seeded) -> None:
        self.server = server
        self.department = seeded.guest_department

    def upload(self, file_path: Path | None) -> bool:
        form_path = f"/submitticket?deptid={self.department}"
        status, headers, page = send(self.server, "GET", form_path, {})
        if status != 200:
            return False
        cookie = headers.get("Set-Cookie", "").split(";", 1)[0]
        hidden = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.decode())
        )
        fields = [
            *hidden.items(),
            ("deptid", str(self.department)),
            ("name", "Una Uploader"),
            ("email", "una@example.com"),
            ("subject", "Big upload"),
            ("priority", "Medium"),
            ("message", "See the attachment."),
            ("action", "submit"),
        ]
        content_type, length, chunks = multipart(fields, "attachments", file_path, "upload.pdf")
        headers = {"Content-Type": content_type, "Content-Length": str(length), "Cookie": cookie}
        status, answer_headers, _ = send(self.server, "POST", "/submitticket", headers, chunks)
        return status == 303 and "/submitticket/complete/" in answer_headers.get("Location", "")


def measure(server: Server, door, file_path: Path | None) -> dict:
    workers = server.worker_pids()
    before = {}
    for pid in workers:
        reset_peak(pid)
        before[pid] = memory_kib(pid)["VmRSS"]
    succeeded = door.upload(file_path)
    increases = {pid: memory_kib(pid)["VmHWM"] - before[pid] for pid in workers}
    return {"succeeded": succeeded, "peak_increase_mb": max(increases.values()) / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args(argv)
    size = args.megabytes * 1024 * 1024

    workdir = Path(tempfile.mkdtemp(prefix="portal-upload-", dir="/tmp"))
    limit = str(size + 16 * 1024 * 1024)
    environment = portal_environment(
        workdir / "portal",
        PORTAL_ATTACHMENT_MAX_BYTES=limit,
        PORTAL_MAX_CONTENT_LENGTH=limit,
        # Where werkzeug spools uploads: on disk here, as it should be in production.
        TMPDIR=str(workdir),
    )
    seeded = seed.seed_portal(environment)
    big_file = workdir / "upload.bin"
    write_random_file(big_file, size)
    small_file = workdir / "small.bin"
    write_random_file(small_file, 1024)

    results = []
    try:
        with Server(
            "portal", "portal:create_app()", environment, log_path=workdir / "log"
        ) as server:
            for door in (ApiUpload(server, seeded), FormUpload(server, seeded)):
                for _ in range(WARM_UP_REQUESTS):
                    door.upload(small_file)
                control = measure(server, door, small_file)
                big = measure(server, door, big_file)
                results.append((door.name, control, big))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"| door | 1 KB file: peak increase | {args.megabytes} MB file: peak increase | "
        f"< {TARGET_INCREASE_MB} MB |"
    )
    print("| --- | ---: | ---: | --- |")
    met = True
    for name, control, big in results:
        ok = big["succeeded"] and big["peak_increase_mb"] < TARGET_INCREASE_MB
        met &= ok and control["succeeded"]
        failed = "" if big["succeeded"] and control["succeeded"] else " (upload FAILED)"
        print(
            f"| {name} | {control['peak_increase_mb']:.1f} MB | {big['peak_increase_mb']:.1f} MB"
            f"{failed} | {'yes' if ok else 'no'} |"
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
