"""Running a CS server as a real child process, for fault tests; finding what a
child left behind."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from transport.http.client import JsonClient, NotReady, wait_healthy
from waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """`run.py serve` in trusted mode against a given simulator and Redis."""

    def __init__(self, *, port, im_url, redis_url, prefix, config_path, robot_secret,
                 admin_secret, callback_token, log_path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.argv = [sys.executable, str(ROOT / "run.py"), "--log-level", "WARNING", "serve",
                     "--port", str(port), "--im-url", im_url, "--redis-url", redis_url,
                     "--redis-prefix", prefix, "--config", str(config_path)]
        self.env = dict(os.environ, CS_ROBOT_SECRET=robot_secret, CS_ADMIN_SECRET=admin_secret,
                        CS_CALLBACK_TOKEN=callback_token, PYTHONUNBUFFERED="1")
        self.log_path = log_path
        self.proc = None

    def start(self, timeout=30.0):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL, cwd=ROOT)
        try:
            wait_healthy(self.url, lambda: self.proc.poll() is not None, timeout)
        except NotReady as exc:
            if exc.exited:
                raise RuntimeError(f"server exited: {Path(self.log_path).read_text()}") from None
            raise RuntimeError("server did not come up") from None
        return self

    def ensure_stopped(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout=30):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def readyz(self):
        return JsonClient().get(self.url + "/readyz").body


def faq_config(path, count):
    """A FAQ whose answer names its question: q007 -> a007."""
    faq = [{"keywords": [f"q{i:03d}"], "answer": f"a{i:03d}"} for i in range(count)]
    path.write_text(json.dumps({"faq": faq, "servicers": ["alice"]}))
    return path


MARK = "WILDFIRE_CS_TEST_MARK"


def marked_env(mark, **extra):
    """An environment whose processes, and all they start, can be found again:
    children inherit it, and /proc/<pid>/environ shows it even after
    redis-server rewrites its command line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CS_")}
    return {**env, MARK: mark, "PYTHONUNBUFFERED": "1", **extra}


def marked_processes(mark):
    """Live (not zombie) processes started with ``marked_env(mark)``."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            name = (entry / "comm").read_text().strip()
        except (OSError, IndexError):  # gone meanwhile, or not ours to read
            continue
        if needle in environ and state != "Z":
            found.append((int(entry.name), name))
    return found


def assert_none_left(mark, timeout=5.0):
    """Every process started under ``mark`` is gone (a child told to stop may take
    a moment to exit; one never stopped stays, and fails this)."""
    assert wait_until(lambda: not marked_processes(mark), timeout, poll=0.05), \
        f"processes left behind: {marked_processes(mark)}"
