"""api.php's request body: who is calling is read first, at little memory; the whole form only
once the caller is known.

A small body (no longer than Flask's MAX_FORM_MEMORY_SIZE, 500 KB by default) is parsed whole
at once: it cannot cost more than its size. A larger one is copied to a temporary file that
keeps at most that much in memory, and on the way a first pass picks out only the fields that
say who calls and how to answer, each capped at MAX_FIELD_BYTES. Only for a caller that passed
authentication is the copy parsed whole, with the limit a base64 `attachments` field needs, and
its files again go to disk. An unknown caller's large field so costs buffers, never its size.
"""

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Protocol
from urllib.parse import unquote_plus

from flask import Request
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

# Who calls, and how the answer is written (the refusal of an unknown caller is written too).
FIRST_FIELDS = frozenset(
    {"identifier", "secret", "username", "password", "accesskey", "responsetype", "action"}
)
# Far longer than any identifier, secret, access key or action; a longer value is kept as
# OVERLONG, which no credential equals, so that the checks refuse it in their usual order.
MAX_FIELD_BYTES = 1024
OVERLONG = "\x00"
CHUNK = 64 * 1024
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
# A name that is none of FIRST_FIELDS, even percent-encoded, once it is longer than this.
_MAX_NAME_BYTES = 64


@dataclass
class Submitted:
    """The whole form of a known caller: fields by last value (as PHP's $_POST), and files."""

    fields: dict[str, str]
    form: MultiDict[str, str]
    files: MultiDict[str, FileStorage]


@dataclass
class ApiBody:
    """One request's body, read from the client once."""

    request: Request
    first_fields: dict[str, str] = field(default_factory=dict)
    # False for a body that is no form werkzeug or the first pass can read: it has no fields.
    readable: bool = True
    _copy: IO[bytes] | None = None
    _copied_bytes: int = 0
    _opened: list[IO[bytes]] = field(default_factory=list)

    def whole_form(self, max_form_memory_size: int) -> Submitted:
        """The whole form, each field up to `max_form_memory_size`; only for a known caller."""
        if not self.readable:
            return Submitted({}, MultiDict(), MultiDict())
        form: MultiDict[str, str]
        files: MultiDict[str, FileStorage]
        if self._copy is None:
            form, files = self.request.form, self.request.files
        else:
            self.request.max_form_memory_size = max_form_memory_size
            parser = self.request.make_form_data_parser()
            self._copy.seek(0)
            _, form, files = parser.parse(
                self._copy, self.request.mimetype, self._copied_bytes, self.request.mimetype_params
            )
            self._opened.extend(storage.stream for _, storage in files.items(multi=True))
        return Submitted(dict(form.items(multi=True)), form, files)

    def close(self) -> None:
        for stream in [*self._opened, *([self._copy] if self._copy else [])]:
            stream.close()


@contextmanager
def api_body(request: Request) -> Iterator[ApiBody]:
    """The request's body with its first fields read; its copy and files removed at the end."""
    body = ApiBody(request)
    try:
        _read_first_fields(body)
        yield body
    finally:
        body.close()


def _read_first_fields(body: ApiBody) -> None:
    request = body.request
    in_memory = request.max_form_memory_size or 500_000
    length = request.content_length
    if length is not None and length <= in_memory:
        body.first_fields = capped(dict(request.form.items(multi=True)))
        return
    scan = _scanner(request.mimetype, request.mimetype_params)
    if scan is None:
        body.readable = False  # werkzeug reads no fields from it either
        return
    # Closed by ApiBody.close(), with the files parsed from it.
    body._copy = copy = tempfile.SpooledTemporaryFile(max_size=in_memory)  # noqa: SIM115
    while chunk := request.stream.read(CHUNK):
        copy.write(chunk)
        body._copied_bytes += len(chunk)
        if not scan.feed(chunk):
            # No caller can be read from it, so it is refused: the rest is left unread.
            body.readable = False
            return
    body.readable = scan.finish()
    body.first_fields = scan.found if body.readable else {}


def capped(values: Mapping[str, str]) -> dict[str, str]:
    """The first fields of a parsed form, a value over MAX_FIELD_BYTES kept as OVERLONG."""
    return {
        name: OVERLONG if len(value.encode("utf-8", "surrogatepass")) > MAX_FIELD_BYTES else value
        for name, value in values.items()
        if name in FIRST_FIELDS
    }


class _Scanner(Protocol):
    """Reads the first fields from a body fed chunk by chunk, keeping only their values."""

    found: dict[str, str]

    def feed(self, chunk: bytes) -> bool:
        """Take a chunk; False when the body is no form this pass can read."""

    def finish(self) -> bool:
        """The body ended; False when it is no complete form."""


def _scanner(mimetype: str, options: Mapping[str, str]) -> _Scanner | None:
    if mimetype == URLENCODED:
        return _UrlencodedScanner()
    if mimetype == MULTIPART and options.get("boundary"):
        return _MultipartScanner(options["boundary"].encode("ascii", "replace"))
    return None


class _MultipartScanner:
    def __init__(self, boundary: bytes) -> None:
        # Besides a chunk, the decoder buffers a part's headers and whatever precedes the first
        # boundary: a body with more of either than this is no form a client of this API sends.
        self.decoder = MultipartDecoder(boundary, max_form_memory_size=4 * CHUNK)
        self.found: dict[str, str] = {}
        self.name: str | None = None
        self.value = bytearray()
        self.overlong = False

    def feed(self, chunk: bytes) -> bool:
        return self._decode(chunk)

    def finish(self) -> bool:
        return self._decode(None)

    def _decode(self, chunk: bytes | None) -> bool:
        try:
            self.decoder.receive_data(chunk)
            while not isinstance(event := self.decoder.next_event(), NeedData | Epilogue):
                self._take(event)
        except (ValueError, RequestEntityTooLarge):
            return False
        return True

    def _take(self, event: object) -> None:
        if isinstance(event, Field):
            self.name = event.name if event.name in FIRST_FIELDS else None
            self.value.clear()
            self.overlong = False
        elif isinstance(event, File):
            self.name = None  # werkzeug puts it in request.files, never among the fields
        elif isinstance(event, Data) and self.name is not None:
            if len(self.value) + len(event.data) > MAX_FIELD_BYTES:
                self.overlong = True
                self.value.clear()
            elif not self.overlong:
                self.value += event.data
            if not event.more_data:
                value = self.value.decode("utf-8", "replace")
                self.found[self.name] = OVERLONG if self.overlong else value
                self.name = None


class _UrlencodedScanner:
    def __init__(self) -> None:
        self.found: dict[str, str] = {}
        self.pair = bytearray()
        # The rest of the current name=value pair is of no interest (or too long to keep).
        self.skipping = False
        self.overlong_name: str | None = None

    def feed(self, chunk: bytes) -> bool:
        start = 0
        while start < len(chunk):
            end = chunk.find(b"&", start)
            if not self.skipping:
                self.pair += chunk[start:] if end == -1 else chunk[start:end]
                self._skip_if_of_no_interest()
            if end == -1:
                break
            self._pair_ended()
            start = end + 1
        return True

    def finish(self) -> bool:
        self._pair_ended()
        return True

    def _skip_if_of_no_interest(self) -> None:
        name, equals, value = self.pair.partition(b"=")
        if not equals:
            if len(name) > _MAX_NAME_BYTES:
                self._skip()
            return
        decoded = _unquoted(name)
        if decoded not in FIRST_FIELDS:
            self._skip()
        # Percent-encoding at most triples a value's UTF-8 bytes.
        elif len(value) > 3 * MAX_FIELD_BYTES:
            self.overlong_name = decoded
            self._skip()

    def _skip(self) -> None:
        self.skipping = True
        self.pair.clear()

    def _pair_ended(self) -> None:
        if self.overlong_name is not None:
            self.found[self.overlong_name] = OVERLONG
        elif not self.skipping and self.pair:
            name, _, value = self.pair.partition(b"=")
            decoded = _unquoted(name)
            if decoded in FIRST_FIELDS:
                self.found.update(capped({decoded: _unquoted(value)}))
        self.pair.clear()
        self.skipping = False
        self.overlong_name = None


def _unquoted(raw: bytes | bytearray) -> str:
    return unquote_plus(bytes(raw).decode("utf-8", "replace"), errors="replace")
