"""Running a CS server as a real child process, for fault tests."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from transport.http.client import JsonClient, NotReady, wait_healthy

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
