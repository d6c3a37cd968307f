"""Start-up problems a person can fix, and the checks that find them early.

``run.py`` prints a StartupError as one line and exits with status 2 (as
argparse does for a bad flag); a traceback is only for ``--log-level debug``.
The checks run before anything is started, so a refused start leaves no
process behind and touches no file of an instance already running.
"""

from __future__ import annotations

import socket


class StartupError(Exception):
    """A start-up problem, said in one line that names it."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on ``host:port`` now (or holds it bound).

    SO_REUSEADDR as our servers and redis-server set it, so a port a stopped
    run left in TIME_WAIT counts as free, as it is for them.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def check_port(port: int, host: str = "127.0.0.1", hint: str = "") -> None:
    """Raise StartupError naming ``port`` when it is taken."""
    if port_in_use(port, host):
        raise StartupError(f"port {port} is in use{': ' + hint if hint else ''}")
