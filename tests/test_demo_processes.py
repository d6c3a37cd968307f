"""`run.py demo`: every part as its own process, played through the guide it prints.

The guide's command lines are run as printed, through ``sh``, so a line that
would fail when pasted fails here.
"""

import json
import secrets
import signal
import socket
import subprocess
import sys
import time

import gevent
import pytest

from procs import ROOT, assert_none_left, marked_env
from transport.sim.imsim import ImSimClient

GUIDE_END = "/history?order=oldest"  # the guide's last line


def port_is_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_base_port():
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = sock.getsockname()[1]
        if base < 65000 and all(port_is_free(base + offset) for offset in (0, 9, 10, 20)):
            return base


class Demo:
    """One ``run.py demo`` process, its printed guide, and its output after that."""

    def __init__(self, data_dir, base, *flags, mark):
        self.base = base
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "demo", "--base-port", str(base),
             "--data-dir", str(data_dir), *flags],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
            stdin=subprocess.DEVNULL, env=marked_env(mark))
        self.output = []
        try:
            with gevent.Timeout(60, AssertionError("the demo printed no guide")):
                for line in self.proc.stdout:
                    self.output.append(line)
                    if GUIDE_END in line:
                        break
            assert GUIDE_END in "".join(self.output), "".join(self.output)
        except BaseException:
            self.stop(signal.SIGKILL)
            raise
        self.commands = [line.strip() for line in self.output if line.startswith("    curl ")]
        # Children keep logging to the pipe: read it, so that none blocks on it.
        self._drain = gevent.spawn(lambda: self.output.extend(self.proc.stdout))
        self.sim = ImSimClient(f"http://127.0.0.1:{base + 10}")

    def stop(self, sig=signal.SIGINT):
        """Ctrl-C (SIGINT), as a person stops it; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=40)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def demos():
    """Starts demos under one mark; whatever happens, none outlives the test."""
    mark = secrets.token_hex(8)
    started = []

    def start(data_dir, base, *flags):
        demo = Demo(data_dir, base, *flags, mark=mark)
        started.append(demo)
        return demo

    yield start
    for demo in started:
        demo.stop()
    assert_none_left(mark)


def sh(command):
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, (command, done.stderr)
    return done.stdout


def text_of(message):
    return message["payload"].get("searchableContent", "")


def play_printed_flow(demo):
    """Each printed line in turn, waiting for what it should cause before the next,
    as a person reading the replies would."""
    sim, run = demo.sim, iter(demo.commands)
    assert len(demo.commands) == 10, demo.commands

    def send():
        assert "messageId" in json.loads(sh(next(run)))

    send()  # servicer1: /on
    assert "on duty" in text_of(sim.wait_for("servicer1", timeout=10)[0])
    send()  # customer1: enter
    assert "欢迎" in text_of(sim.wait_for("customer1", timeout=10)[0])
    send()  # customer1: 多少钱?
    assert "10 元" in text_of(sim.wait_for("customer1", timeout=10)[0])
    send()  # customer1: 转人工
    assert "小王 Wang" in text_of(sim.wait_for("customer1", timeout=10)[0])
    notice, history = sim.wait_for("servicer1", 2, timeout=10)
    assert notice["sender"] == "customer1*Shadow" and "多少钱?" in text_of(history)
    send()  # servicer1 in the Shadow chat
    [reply] = sim.wait_for("customer1", timeout=10)
    assert json.loads(reply["payload"]["extra"])["cs"]["servicerId"] == "servicer1"
    send()  # servicer1: #hi, the demo's canned reply, filled with both names
    [canned] = sim.wait_for("customer1", timeout=10)
    assert "张三 Zhang San" in text_of(canned) and "小王 Wang" in text_of(canned)
    send()  # servicer1: /end
    end, rating_request = sim.wait_for("customer1", 2, timeout=10)
    assert "ended" in text_of(end) and rating_request["payload"]["type"] == 10005
    send()  # customer1: 5 很好
    assert "Thank you" in text_of(sim.wait_for("customer1", timeout=10)[0])

    inbox = sh(next(run)).splitlines()  # one line per message customer1 received
    assert len(inbox) == 8 and "Thank you" in inbox[-1] and "\\u" not in "".join(inbox)
    history = json.loads(sh(next(run)))["messages"]
    # The printed TOKEN is the one the README's API examples take.
    [token] = [line.split("=", 1)[1].strip() for line in demo.output
               if line.startswith("    export TOKEN=")]
    servicers = sh(f"curl -s -H 'Authorization: Bearer {token}' "
                   f"http://127.0.0.1:{demo.base}/api/servicers")
    assert "servicer1" in servicers and "servicer2" in servicers  # a supervisor sees all
    assert history[0]["payload"]["type"] == 10001
    assert any("Thank you" in text_of(entry) for entry in history)
    return history


def test_the_demo_plays_its_printed_flow_run_after_run(demos, tmp_path):
    base = free_base_port()
    first = demos(tmp_path, base)
    first_history = play_printed_flow(first)
    assert "each run starts afresh" in "".join(first.output)
    assert first.stop() == 0  # Ctrl-C

    # --keep-data: the record stays, but not the last run's sessions and seats,
    # whose Shadows the fresh simulator would not know.
    second_start_ms = time.time() * 1000
    kept = demos(tmp_path, base, "--keep-data")
    kept_history = play_printed_flow(kept)
    assert "starts afresh" not in "".join(kept.output)
    assert "from earlier runs, if any, are kept" in "".join(kept.output)
    assert kept_history[:len(first_history)] == first_history
    assert len(kept_history) > len(first_history)
    assert kept.stop() == 0

    third_start_ms = time.time() * 1000
    fresh = demos(tmp_path, base)
    fresh_history = play_printed_flow(fresh)
    assert all(entry["t"] >= third_start_ms > second_start_ms for entry in fresh_history)
    assert fresh.stop() == 0


def test_a_second_demo_on_the_same_ports_says_so_and_touches_nothing(demos, tmp_path):
    base = free_base_port()
    first = demos(tmp_path / "first", base)
    tokens = {name: (tmp_path / "first" / name).read_bytes()
              for name in ("api-tokens.json", "demo-tokens.json")}
    for data_dir in (tmp_path / "first", tmp_path / "second"):
        mark = secrets.token_hex(8)
        done = subprocess.run(
            [sys.executable, str(ROOT / "run.py"), "--base-port", str(base),
             "--data-dir", str(data_dir)], cwd=ROOT, env=marked_env(mark),
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            f"run.py demo: port {base} is in use: is another demo running? use --base-port"]
        assert_none_left(mark)
    assert not (tmp_path / "second").exists()
    assert all((tmp_path / "first" / name).read_bytes() == content
               for name, content in tokens.items())
    play_printed_flow(first)  # the first one still serves, whole
