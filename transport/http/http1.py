"""A lean HTTP/1.1 client for plain-HTTP keep-alive calls: one send, one parse.

Every bot answer is one ``POST /robot/message/send``. Under ``run.py
loadtest`` geventhttpclient spent 70% of such a call outside the socket
(py-spy): validating each header with regular expressions, checking that
a pooled socket is alive with ``select`` before every use, and building
response objects. Here the request is one ``send`` of bytes built with a
join, and the response is read from one buffer. It saves 28-29 µs of the
server's CPU per answer, about a seventh of it (medians of two runs of
``python benchmarks/httpparts.py --requests 5000 --rounds 5``, rounds ranging
26-31: 42-44 µs per send, geventhttpclient 70-72). TLS (``https://``) stays
with geventhttpclient.

The interface is ``Http1Pool.request(method, target, body, headers)``;
inside, ``encode_request`` and ``read_response`` write and read as
``http.client`` does (its checks on what may be sent; its status line, its
header parse, through transport/http/headers.py, its framing and keep-alive
rules), and tests/test_http1_differential.py compares them with it on
generated requests and responses, malformed ones included.
"""
from __future__ import annotations

import http.client
import re
import socket
from typing import NamedTuple

import gevent
from gevent.lock import BoundedSemaphore

from transport.http.headers import Headers

MAX_LINE = 65536  # http.client's _MAXLINE
MAX_BODY_BYTES = 16 * 1024 * 1024
RECV_BYTES = 16384


class Http1Error(Exception):
    """No usable HTTP answer: refused, timed out, closed, or malformed."""


class RawResponse(NamedTuple):
    status: int
    body: bytes


class _Closed(Exception):
    """The server closed a reused connection before answering: safe to retry."""


# What http.client's putrequest and putheader refuse to send, refused here
# too (the rid header carries ids that came from users).
_BAD_METHOD = re.compile("[\x00-\x1f]")
_BAD_TARGET = re.compile("[\x00-\x20\x7f]")
_LEGAL_NAME = re.compile(rb"[^:\s][^:\r\n]*").fullmatch
_BAD_VALUE = re.compile("\n(?![ \t])|\r(?![ \t\n])").search
_good_names: set[str] = set()  # names already checked: ours, a handful, sent every call
MAX_GOOD_NAMES = 64


def encode_request(method: str, target: str, host_header: bytes, body: bytes,
                   headers: dict[str, str]) -> bytes:
    """One request's bytes: request line, ``host_header``, a
    ``Content-Length``, ``headers`` and ``body``.

    Raises:
        ValueError: where ``http.client`` refuses to send (a control
            character in the method, a blank or control character in the
            target, a name that is not a token, a line break that does not
            fold a value, a character beyond ASCII in the request line or
            names, or beyond Latin-1 in values). Host and Content-Length are
            ours to write; callers pass neither.
    """
    target = target or "/"
    if _BAD_METHOD.search(method):
        raise ValueError(f"invalid method {method!r}")
    if _BAD_TARGET.search(target):
        raise ValueError(f"invalid target {target!r}")
    for name, value in headers.items():
        if name not in _good_names:
            if not _LEGAL_NAME(name.encode("ascii")):
                raise ValueError(f"invalid header name {name!r}")
            if len(_good_names) < MAX_GOOD_NAMES:
                _good_names.add(name)
        if ("\n" in value or "\r" in value) and _BAD_VALUE(value):
            raise ValueError(f"invalid header value {value!r}")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    # Content-Length before the caller's headers, as http.client writes it: a
    # server may stop reading headers at a malformed one (the e-mail parser does).
    return b"".join((f"{method} {target} HTTP/1.1\r\n".encode("ascii"), host_header,
                     f"Content-Length: {len(body)}\r\n".encode(),
                     head.encode("latin-1"), b"\r\n", body))


class _Reader:
    """Reads one response from a socket as http.client's buffered file would
    (``readline(limit)``, ``read(size)``), keeping what came after it."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def _more(self) -> bool:
        data = self._sock.recv(RECV_BYTES)
        self._buffer += data
        return bool(data)

    def readline(self, limit: int) -> bytes:
        """Up to and including the next LF, at most ``limit`` bytes; short at EOF."""
        start = 0
        while True:
            end = self._buffer.find(b"\n", start, limit)
            if end >= 0:
                return self._take(end + 1)
            if len(self._buffer) >= limit:
                return self._take(limit)
            start = len(self._buffer)
            if not self._more():
                return self._take(len(self._buffer))

    def read(self, size: int) -> bytes:
        """``size`` bytes, fewer at EOF; all up to EOF if ``size`` is negative."""
        if size < 0 or size > MAX_BODY_BYTES:
            while len(self._buffer) <= MAX_BODY_BYTES and self._more():
                pass
            if len(self._buffer) > MAX_BODY_BYTES:
                raise Http1Error("response body too large")
            return self._take(len(self._buffer))
        while len(self._buffer) < size and self._more():
            pass
        return self._take(size)

    def exactly(self, size: int) -> bytes:
        data = self.read(size)
        if len(data) < size:
            raise Http1Error("connection closed inside the response body")
        return data

    def _take(self, size: int) -> bytes:
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def read_response(reader: _Reader, method: str) -> tuple[int, bytes, bool]:
    """Status, body, and whether the connection stays open, decided as
    ``http.client.HTTPResponse`` decides them (``begin``, ``read``).

    Raises:
        Http1Error: where http.client raises (a bad status line or chunk,
            a body cut short); also for a body over ``MAX_BODY_BYTES``.
        _Closed: the connection ended before a byte of the status line.
    """
    while True:
        version, status = _status_line(reader)
        if status != 100:
            break
        _headers(reader)  # a 100 Continue's, skipped
    if version in ("HTTP/1.0", "HTTP/0.9"):
        http11 = False
    elif version.startswith("HTTP/1."):
        http11 = True
    else:
        raise Http1Error(f"unknown protocol {version[:20]!r}")
    headers = _headers(reader)
    encoding = headers.get("transfer-encoding")
    chunked = bool(encoding) and encoding.lower() == "chunked"
    connection = headers.get("connection")
    if http11:
        close = bool(connection) and "close" in connection.lower()
    else:
        proxy = headers.get("proxy-connection")
        close = not (headers.get("keep-alive")
                     or (connection and "keep-alive" in connection.lower())
                     or (proxy and "keep-alive" in proxy.lower()))
    length: int | None = None
    declared = headers.get("content-length")
    if declared and not chunked:
        try:
            length = int(declared)
        except ValueError:
            length = None
        else:
            if length < 0:
                length = None
    if status in (204, 304) or 100 <= status < 200 or method == "HEAD":
        length = 0
    if not close and not chunked and length is None:
        close = True
    if method == "HEAD":
        body = b""
    elif chunked:
        body = _chunked(reader)
    elif length is None:
        body = reader.read(-1)
    else:
        body = reader.exactly(length)
    return status, body, not close


def _status_line(reader: _Reader) -> tuple[str, int]:
    line = str(reader.readline(MAX_LINE + 1), "iso-8859-1")
    if len(line) > MAX_LINE:
        raise Http1Error("status line too long")
    if not line:
        raise _Closed()
    try:
        version, status, _ = line.split(None, 2)
    except ValueError:
        try:
            version, status = line.split(None, 1)
        except ValueError:
            version = ""
    if not version.startswith("HTTP/"):
        raise Http1Error(f"bad status line {line[:80]!r}")
    try:
        code = int(status)
    except ValueError:
        code = 0
    if not 100 <= code <= 999:
        raise Http1Error(f"bad status line {line[:80]!r}")
    return version, code


def _headers(reader: _Reader) -> Headers:
    try:
        headers = Headers.read(reader)
    except http.client.HTTPException as exc:
        raise Http1Error(str(exc)) from None
    if headers.status:
        raise Http1Error("response header line too long")
    return headers


def _chunked(reader: _Reader) -> bytes:
    """http.client's ``_read_chunked``: a size line (extensions after ';'
    ignored), the chunk, two bytes taken as its CRLF; trailers skipped."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise Http1Error("chunk size line too long")
        try:
            size = int(line.split(b";", 1)[0], 16)
        except ValueError:
            raise Http1Error("bad chunk size") from None
        if size == 0:
            while True:  # trailers, up to the empty line or the end
                line = reader.readline(MAX_LINE + 1)
                if len(line) > MAX_LINE:
                    raise Http1Error("trailer line too long")
                if line in (b"\r\n", b"\n", b""):
                    return b"".join(parts)
        parts.append(reader.exactly(size) if size > 0 else reader.read(-1))
        total += len(parts[-1])
        if total > MAX_BODY_BYTES:
            raise Http1Error("response body too large")
        reader.exactly(2)  # the CRLF after each chunk, not checked (nor by http.client)


class Http1Pool:
    """Keep-alive connections to one host:port, at most ``size`` at once."""

    def __init__(self, host: str, port: int, size: int, connect_timeout: float,
                 read_timeout: float) -> None:
        self._address = (host, port)
        self._host_header = f"Host: {host}:{port}\r\n".encode()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._idle: list[socket.socket] = []
        self._slots = BoundedSemaphore(size)

    def request(self, method: str, path: str, body: bytes,
                headers: dict[str, str]) -> RawResponse:
        """One request. A reused connection that fails before any answer (the
        server closed it while idle) is dropped and the next one, or a new one,
        is tried."""
        data = encode_request(method, path, self._host_header, body, headers)
        if not self._slots.acquire(timeout=self._connect_timeout + self._read_timeout):
            raise Http1Error("no free connection in time")
        try:
            while self._idle:
                sock = self._idle.pop()
                try:
                    return self._exchange(sock, data, method)
                except (_Closed, BrokenPipeError, ConnectionResetError):
                    sock.close()  # stale keep-alive connection; try the next
            return self._exchange(self._connect(), data, method)
        except _Closed:
            raise Http1Error("connection closed before the response") from None
        except (OSError, gevent.Timeout) as exc:
            raise Http1Error(f"{exc.__class__.__name__}: {exc}") from None
        finally:
            self._slots.release()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self._address, timeout=self._connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self._read_timeout)
        return sock

    def _exchange(self, sock: socket.socket, data: bytes, method: str) -> RawResponse:
        try:
            # gevent's sendall asks the kernel for the send buffer size first
            # (a syscall); a request fits in one send nearly always.
            sent = sock.send(data)
            if sent < len(data):
                sock.sendall(data[sent:])
            status, body, keep = read_response(_Reader(sock), method)
        except BaseException:
            sock.close()
            raise
        if keep:
            self._idle.append(sock)
        else:
            sock.close()
        return RawResponse(status, body)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
