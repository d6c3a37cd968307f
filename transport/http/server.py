"""Serving a WSGI app on gevent's pywsgi, with TCP_NODELAY.

Without TCP_NODELAY, pywsgi capped at ~1,100 req/s with 50 connections on
this machine (40 ms delayed-ACK stalls); with it a bare Bottle JSON handler
did ~10,000 req/s (DESIGN.md §2).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from gevent.pywsgi import WSGIHandler, WSGIServer

log = logging.getLogger(__name__)

# The limits http.client applies, which the parser below keeps.
MAX_HEADER_LINE = 65536
MAX_HEADERS = 100


class RequestHeaders:
    """Request headers as pywsgi reads them, without the e-mail package.

    pywsgi parses headers with ``http.client.parse_headers``, which builds an
    ``email.message.Message`` through the e-mail feed parser: about a tenth of
    the CS server's CPU per callback under load (cProfile). This keeps only
    what pywsgi uses: ``get``, ``getheader``, ``del``, ``headers`` (raw lines),
    ``typeheader`` and ``status``.
    """

    __slots__ = ("_lines", "_values", "status")

    def __init__(self, lines: list[tuple[str, str]], status: str = "") -> None:
        self._lines = lines
        self._values: dict[str, str] = {}
        for name, value in lines:
            self._values.setdefault(name.lower(), value)
        self.status = status

    @classmethod
    def read(cls, rfile: Any) -> RequestHeaders:
        lines: list[tuple[str, str]] = []
        while True:
            raw = rfile.readline(MAX_HEADER_LINE + 1)
            if len(raw) > MAX_HEADER_LINE or len(lines) > MAX_HEADERS:
                return cls([], "Line too long")
            if raw in (b"\r\n", b"\n", b""):
                return cls(lines)
            line = raw.decode("latin-1").rstrip("\r\n")
            if line[:1] in (" ", "\t") and lines:  # an obsolete folded continuation
                name, value = lines[-1]
                lines[-1] = (name, value + " " + line.strip())
                continue
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                return cls([], "Invalid header line")
            lines.append((name, value.strip()))

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


class FastHeadersHandler(WSGIHandler):
    def MessageClass(self, rfile: Any, *args: Any) -> RequestHeaders:  # noqa: N802 (pywsgi's name)
        return RequestHeaders.read(rfile)

    def log_request(self) -> None:
        """No access log (our servers start with ``log=None``): pywsgi would
        still format each request's line, ~1.8 µs, to throw it away (py-spy)."""


class NoDelayWSGIServer(WSGIServer):
    handler_class = FastHeadersHandler

    def handle(self, sock: socket.socket, address: Any) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        super().handle(sock, address)


class RunningServer:
    """A started server: its URL, and a way to stop it."""

    def __init__(self, server: NoDelayWSGIServer) -> None:
        self._server = server

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 2.0) -> None:
        self._server.stop(timeout=timeout)

    def serve_forever(self) -> None:
        self._server.serve_forever()


def listen(host: str = "127.0.0.1", port: int = 0, backlog: int = 2048) -> Any:
    """A bound, listening socket: its port is known before the app is built."""
    from gevent import socket as gsocket

    sock = gsocket.socket(gsocket.AF_INET, gsocket.SOCK_STREAM)
    sock.setsockopt(gsocket.SOL_SOCKET, gsocket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def start_server(app: Any, host: str = "127.0.0.1", port: int = 0,
                 listener: Any = None) -> RunningServer:
    """Serve in the background (greenlets) and return at once."""
    server = NoDelayWSGIServer(listener if listener is not None else listen(host, port),
                               app, log=None, error_log=log)
    server.start()
    return RunningServer(server)
