"""A lean HTTP/1.1 client for plain-HTTP keep-alive calls: one send, one parse.

Every bot answer is one ``POST /robot/message/send``. Under ``run.py
loadtest`` geventhttpclient spent 70% of such a call outside the socket
(py-spy): validating each header with regular expressions, checking that
a pooled socket is alive with ``select`` before every use, and building
response objects. Here the request is one ``sendall`` of bytes built with a
join, and the response is read with ``bytes.find``. It speaks just what our
JSON calls need: ``Content-Length`` or chunked bodies, keep-alive, and a
server that closes an idle connection. TLS (``https://``) stays with
geventhttpclient, where correctness matters more than these microseconds.
"""

from __future__ import annotations

import re
import socket
from typing import NamedTuple

import gevent
from gevent.lock import BoundedSemaphore

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
RECV_BYTES = 16384


class Http1Error(Exception):
    """No usable HTTP answer: refused, timed out, closed, or malformed."""


class RawResponse(NamedTuple):
    status: int
    body: bytes


class _Closed(Exception):
    """The server closed a reused connection before answering: safe to retry."""


# Header values come partly from users' ids (the rid header): no line breaks
# may smuggle a header in; names are tokens.
_BAD_NAME = re.compile(r"[:\s]")
_BAD_PATH = re.compile(r"\s")
_good_names: set[str] = set()  # names already checked: ours, a handful, sent every call
MAX_GOOD_NAMES = 64


def _check(headers: dict[str, str], path: str) -> None:
    for name, value in headers.items():
        if name not in _good_names:
            if _BAD_NAME.search(name):
                raise ValueError(f"invalid header {name!r}")
            if len(_good_names) < MAX_GOOD_NAMES:
                _good_names.add(name)
        if "\n" in value or "\r" in value:
            raise ValueError(f"invalid header {name!r}")
    if _BAD_PATH.search(path):
        raise ValueError(f"invalid path {path!r}")


class _Reader:
    """Reads one response from a socket, keeping what came after it."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def _more(self) -> bool:
        data = self._sock.recv(RECV_BYTES)
        self._buffer += data
        return bool(data)

    def head(self) -> bytes:
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end >= 0:
                head, self._buffer = self._buffer[:end], self._buffer[end + 4:]
                return head
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise Http1Error("response headers too large")
            if not self._more():
                if not self._buffer:
                    raise _Closed()
                raise Http1Error("connection closed inside the response headers")

    def exactly(self, size: int) -> bytes:
        if size > MAX_BODY_BYTES:
            raise Http1Error("response body too large")
        while len(self._buffer) < size:
            if not self._more():
                raise Http1Error("connection closed inside the response body")
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def line(self) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > MAX_HEADER_BYTES or not self._more():
                raise Http1Error("bad chunked body")
        line, self._buffer = self._buffer[:end], self._buffer[end + 2:]
        return line

    def chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            try:
                size = int(self.line().split(b";", 1)[0], 16)
            except ValueError:
                raise Http1Error("bad chunk size") from None
            if size == 0:
                while self.line():  # trailers, up to the empty line
                    pass
                return b"".join(parts)
            total += size
            parts.append(self.exactly(size))
            if total > MAX_BODY_BYTES:
                raise Http1Error("response body too large")
            self.exactly(2)  # the CRLF after each chunk

    def rest(self) -> bytes:
        while self._more():
            if len(self._buffer) > MAX_BODY_BYTES:
                raise Http1Error("response body too large")
        return self._buffer


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
        _check(headers, path)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        data = b"".join((f"{method} {path} HTTP/1.1\r\n".encode(), self._host_header,
                         head.encode("latin-1"),
                         f"Content-Length: {len(body)}\r\n\r\n".encode(), body))
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
            reader = _Reader(sock)
            status, length, chunked, keep = self._parse_head(reader.head())
            if method == "HEAD" or status in (204, 304):
                body = b""
            elif chunked:
                body = reader.chunked()
            elif length is not None:
                body = reader.exactly(length)
            else:
                body, keep = reader.rest(), False
        except BaseException:
            sock.close()
            raise
        if keep:
            self._idle.append(sock)
        else:
            sock.close()
        return RawResponse(status, body)

    @staticmethod
    def _parse_head(head: bytes) -> tuple[int, int | None, bool, bool]:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise Http1Error(f"bad status line {lines[0][:80]!r}")
        keep = parts[0] == b"HTTP/1.1"
        length: int | None = None
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    raise Http1Error("bad Content-Length") from None
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                token = value.strip().lower()
                keep = token == b"keep-alive" or (keep and token != b"close")
        return int(parts[1]), length, chunked, keep

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
