"""HTTP headers read as ``http.client.parse_headers`` reads them, without the
e-mail package: requests' for gevent's pywsgi, responses' for
transport/http/http1.py.

pywsgi reads each request's headers with ``http.client.parse_headers``, which
runs the e-mail feed parser and builds an ``email.message.Message``. This
module gives pywsgi the same answers for less CPU: 34-36 µs less per
callback (medians of two runs of ``python benchmarks/httpparts.py
--requests 5000 --rounds 5``, rounds ranging 30-41), about a sixth of an
answer's cost: a whole request served took 75-85 µs of the server's CPU with
this parser, 112-122 with pywsgi's.

The interface is the one pywsgi's ``WSGIHandler`` uses: ``MessageClass(rfile)``
returns an object with ``status``, ``get``/``getheader``, ``del``, ``headers``
(the lines as they would be written out) and ``typeheader``. The parse follows
the e-mail parser's, quirks included, so that a request means the same to
our server whichever parser reads it: lines break at CR, LF or CRLF; the first
line that is not a header, a continuation or a "From " line ends the headers
(the rest of the block is ignored, not refused); folded values keep their line
breaks; values keep trailing blanks. tests/test_headers_differential.py holds
this to pywsgi's own parser on generated header blocks, malformed ones
included. setup.cfg pins gevent and checks run on CPython 3.11's e-mail parser.
"""

from __future__ import annotations

import http.client
import re
from typing import Any

from gevent.pywsgi import WSGIHandler

# The limits http.client applies.
MAX_HEADER_LINE = 65536
MAX_HEADERS = 100

# email.feedparser: headerRE, and its universal-newline line split.
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
# A block of CRLF lines that are each ``name:value`` and nothing else: no
# folds, no envelope line, no stray CR or LF, ended by the empty line.
_PLAIN = re.compile(r"(?:[\041-\071\073-\176]+:[^\r\n]*\r\n)*\r\n")


class Headers:
    """One message's headers, in order, answering what pywsgi and
    http.client ask of theirs."""

    __slots__ = ("_lines", "_values", "status")

    def __init__(self, lines: list[tuple[str, str]], status: str = "") -> None:
        self._lines = lines
        self._values: dict[str, str] = {}
        for name, value in lines:
            self._values.setdefault(name.lower(), value)
        self.status = status

    @classmethod
    def read(cls, rfile: Any) -> Headers:
        """Read up to and including the empty line that ends the headers.

        Raises:
            http.client.HTTPException: more than ``MAX_HEADERS`` lines, as
                ``http.client`` raises it (pywsgi lets it through too).
        """
        raw: list[bytes] = []
        while True:
            line = rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                return cls([], "Line too long")
            raw.append(line)
            if len(raw) > MAX_HEADERS:
                raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
            if line in (b"\r\n", b"\n", b""):
                break
        return cls(_parse(b"".join(raw).decode("latin-1")))

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name.lower(), default)

    getheader = get

    def __delitem__(self, name: str) -> None:
        lowered = name.lower()
        self._values.pop(lowered, None)
        self._lines = [(n, v) for n, v in self._lines if n.lower() != lowered]

    @property
    def headers(self) -> list[str]:
        return [f"{name}: {value}\r\n" for name, value in self._lines]

    @property
    def typeheader(self) -> str | None:
        return self._values.get("content-type")


def _parse(text: str) -> list[tuple[str, str]]:
    """email.feedparser's header block parse (``_parsegen`` and
    ``_parse_headers``) with the compat32 policy's ``header_source_parse``."""
    if _PLAIN.fullmatch(text):  # nearly every block: it comes to the same, faster
        if len(text) == 2:
            return []
        return [(name, value.lstrip(" \t"))
                for name, _, value in (line.partition(":")
                                       for line in text[:-4].split("\r\n"))]
    lines: list[str] = []
    for line in _LINES.findall(text):
        if not _HEADER_LINE.match(line):
            break  # the empty line, or a line that starts the body
        lines.append(line)
    headers: list[tuple[str, str]] = []
    source: list[str] = []  # the current header's lines
    last = len(lines) - 1
    for number, line in enumerate(lines):
        if line[0] in " \t":
            if source:  # a continuation; one before any header is dropped
                source.append(line)
            continue
        if source:
            headers.append(_header(source))
            source = []
        if line.startswith("From "):
            if number == last and number:
                break  # the first line of a body
            continue  # an envelope line, not a header
        if line[0] != ":":  # a line with no name is dropped
            source = [line]
    if source:
        headers.append(_header(source))
    return headers


def _header(source: list[str]) -> tuple[str, str]:
    name, value = source[0].split(":", 1)
    value = value.lstrip(" \t") + "".join(source[1:])
    return name, value.rstrip("\r\n")


class FastHeadersHandler(WSGIHandler):
    """pywsgi's handler, reading headers with ``Headers``."""

    def MessageClass(self, rfile: Any, *args: Any) -> Headers:  # noqa: N802 (pywsgi's name)
        return Headers.read(rfile)

    def log_request(self) -> None:
        """No access log (our servers start with ``log=None``): pywsgi would
        still format each request's line, ~1.8 µs, to throw it away (py-spy)."""
