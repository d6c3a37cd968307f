"""`run.py demo`: every part as its own process, the whole flow over real HTTP."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from transport.sim.imsim import ImSimClient

ROOT = Path(__file__).resolve().parent.parent


def port_is_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_base_port():
    for base in range(21000 + os.getpid() % 500 * 40, 65000, 40):
        if all(port_is_free(base + offset) for offset in (0, 9, 10, 20)):
            return base
    raise RuntimeError("no free ports")


@pytest.fixture
def demo(tmp_path):
    base = free_base_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "demo", "--base-port", str(base),
         "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    output = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        output.append(line)
        if "demo is running" in line:
            break
    else:
        proc.kill()
    if proc.poll() is not None or "demo is running" not in "".join(output):
        proc.kill()
        pytest.fail("demo did not start:\n" + "".join(output))
    yield proc, ImSimClient(f"http://127.0.0.1:{base + 10}"), f"http://127.0.0.1:{base}"
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def test_demo_runs_the_whole_flow_across_processes(demo):
    proc, sim, _ = demo
    sim.send("servicer1", "cs_robot", "/on")
    assert "on duty" in sim.wait_for("servicer1", timeout=10)[0]["payload"]["searchableContent"]
    sim.send("customer1", "cs_robot", payload={"type": 10001, "persistFlag": 0})
    sim.send("customer1", "cs_robot", "多少钱?")
    welcome, price = sim.wait_for("customer1", 2, timeout=10)
    assert "欢迎" in welcome["payload"]["searchableContent"]
    assert "10 元" in price["payload"]["searchableContent"]

    sim.send("customer1", "cs_robot", "转人工")
    [seated] = sim.wait_for("customer1", timeout=10)
    assert "小王 Wang" in seated["payload"]["searchableContent"]
    notice, history = sim.wait_for("servicer1", 2, timeout=10)
    assert notice["sender"] == "customer1*Shadow"
    assert "张三 Zhang San" in notice["payload"]["searchableContent"]  # from the App Server
    assert "多少钱?" in history["payload"]["searchableContent"]

    sim.send("servicer1", "customer1*Shadow", "您好")
    [reply] = sim.wait_for("customer1", timeout=10)
    assert json.loads(reply["payload"]["extra"])["cs"]["servicerId"] == "servicer1"

    sim.send("servicer1", "customer1*Shadow", "/end")
    end, rating_request = sim.wait_for("customer1", 2, timeout=10)
    assert "ended" in end["payload"]["searchableContent"]
    assert rating_request["payload"]["type"] == 10005
    sim.send("customer1", "cs_robot", "5 很好")
    [thanks] = sim.wait_for("customer1", timeout=10)
    assert "Thank you" in thanks["payload"]["searchableContent"]
    codes = {k for k in sim.stats() if k.startswith("robot_send_code_")}
    assert codes == {"robot_send_code_0"}

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
