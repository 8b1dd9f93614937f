"""How much a large request from an unknown caller raises a gunicorn worker's peak memory.

    .venv/bin/python -m bench.refused_memory                 # 63 MB bodies, then a 1 KB control
    .venv/bin/python -m bench.refused_memory --megabytes 20

api.php is sent bodies of one large part without credentials (or with a wrong secret), as
multipart (a field, a file) and urlencoded; each is refused. The portal runs under gunicorn (2
workers, as gunicorn.conf.py runs them) with its default limits: MAX_CONTENT_LENGTH 64 MiB.
Peak RSS is read as bench.upload_memory reads it: every worker's VmHWM is reset to its RSS
through /proc/<pid>/clear_refs before each request, and the largest VmHWM - RSS-before among
the workers afterwards is the request's cost.
"""

import argparse
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from bench import seed
from bench.serving import Server, portal_environment
from bench.upload_memory import CHUNK, measure, multipart, send

TARGET_INCREASE_MB = 10
WARM_UP_REQUESTS = 8


def filled_with_letters(path: Path, size: int) -> None:
    """A file of `size` printable bytes: a form field's value needs no escaping."""
    with open(path, "wb") as out:
        left = size
        while left:
            chunk = b"x" * min(CHUNK, left)
            out.write(chunk)
            left -= len(chunk)


class Refused:
    """One request api.php refuses; `send` returns whether it answered as refused."""

    def __init__(self, server: Server, name: str, build) -> None:
        self.server, self.name, self.build = server, name, build

    def upload(self, file_path: Path | None) -> bool:
        content_type, length, chunks = self.build(file_path)
        headers = {"Content-Type": content_type, "Content-Length": str(length)}
        status, _, body = send(self.server, "POST", "/includes/api.php", headers, chunks)
        return status == 403 and b"result=error" in body


def part_head(boundary: str, name: str) -> bytes:
    return f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()


def multipart_field(fields: list[tuple[str, str]], field_name: str):
    """A multipart body whose last part is a field with the file's bytes as its value."""

    def build(file_path: Path | None) -> tuple[str, int, Iterator[bytes]]:
        boundary = "bench" + secrets.token_hex(12)
        head = b"".join(
            part_head(boundary, name) + f"{value}\r\n".encode() for name, value in fields
        )
        head += part_head(boundary, field_name)
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = file_path.stat().st_size if file_path else 0

        def chunks() -> Iterator[bytes]:
            yield head
            if file_path:
                with open(file_path, "rb") as source:
                    while chunk := source.read(CHUNK):
                        yield chunk
            yield tail

        return f"multipart/form-data; boundary={boundary}", len(head) + size + len(tail), chunks()

    return build


def multipart_file(fields: list[tuple[str, str]]):
    def build(file_path: Path | None) -> tuple[str, int, Iterator[bytes]]:
        return multipart(fields, "attachments[]", file_path, "upload.pdf")

    return build


def urlencoded_field(fields: list[tuple[str, str]], field_name: str):
    def build(file_path: Path | None) -> tuple[str, int, Iterator[bytes]]:
        head = (urlencode(fields) + "&" if fields else "").encode() + f"{field_name}=".encode()
        size = file_path.stat().st_size if file_path else 0

        def chunks() -> Iterator[bytes]:
            yield head
            if file_path:
                with open(file_path, "rb") as source:
                    while chunk := source.read(CHUNK):
                        yield chunk

        return "application/x-www-form-urlencoded", len(head) + size, chunks()

    return build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=63)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="portal-refused-", dir="/tmp"))
    environment = portal_environment(
        workdir / "portal",
        # Refused calls are what is measured here; their rate limit would refuse them sooner.
        PORTAL_RATELIMIT_API_FAILURES_PER_IP="1000000 per minute",
        PORTAL_RATELIMIT_API_FAILURES_PER_IDENTIFIER="1000000 per minute",
        TMPDIR=str(workdir),
    )
    seeded = seed.seed_portal(environment)
    big_file = workdir / "big.txt"
    filled_with_letters(big_file, args.megabytes * 1024 * 1024)
    small_file = workdir / "small.txt"
    filled_with_letters(small_file, 1024)
    anonymous = [("action", "OpenTicket"), ("responsetype", "text")]
    wrong_secret = [*anonymous, ("identifier", seeded.identifier), ("secret", "wrong")]

    results = []
    try:
        with Server(
            "portal", "portal:create_app()", environment, log_path=workdir / "log"
        ) as server:
            cases = [
                Refused(
                    server,
                    "multipart, a field, no credentials",
                    multipart_field(anonymous, "message"),
                ),
                Refused(
                    server,
                    "multipart, a field, wrong secret",
                    multipart_field(wrong_secret, "message"),
                ),
                Refused(server, "multipart, a file, no credentials", multipart_file(anonymous)),
                Refused(
                    server,
                    "urlencoded, a field, no credentials",
                    urlencoded_field(anonymous, "message"),
                ),
            ]
            for case in cases:
                for _ in range(WARM_UP_REQUESTS):
                    case.upload(small_file)
                control = measure(server, case, small_file)
                big = measure(server, case, big_file)
                results.append((case.name, control, big))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"| refused request | 1 KB: peak increase | {args.megabytes} MB: peak increase | "
        f"< {TARGET_INCREASE_MB} MB |"
    )
    print("| --- | ---: | ---: | --- |")
    met = True
    for name, control, big in results:
        ok = big["succeeded"] and big["peak_increase_mb"] < TARGET_INCREASE_MB
        met &= ok and control["succeeded"]
        failed = "" if big["succeeded"] and control["succeeded"] else " (not refused as expected)"
        print(
            f"| {name} | {control['peak_increase_mb']:.1f} MB | {big['peak_increase_mb']:.1f} MB"
            f"{failed} | {'yes' if ok else 'no'} |"
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
