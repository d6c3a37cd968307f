"""Serving a WSGI app on gevent's pywsgi, with TCP_NODELAY.

Without TCP_NODELAY, pywsgi capped at ~1,100 req/s with 50 connections on
this machine (40 ms delayed-ACK stalls); with it a bare Bottle JSON handler
did ~10,000 req/s (DESIGN.md §2). Request headers are read by
transport/http/headers.py instead of the e-mail package.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from gevent.pywsgi import WSGIServer

from transport.http.headers import FastHeadersHandler

log = logging.getLogger(__name__)

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
