"""Start-up errors: one line naming the problem, exit status 2, nothing left running.

Each case runs ``run.py`` as a real process under a marked environment, so
that anything it started (an embedded redis-server included) can be found
afterwards in /proc.
"""

import json
import secrets
import socket
import subprocess
import sys

import gevent
import pytest

import run
from procs import ROOT, assert_none_left, marked_env
from storage import free_port

SERVE_SECRETS = {"CS_ROBOT_SECRET": "robot-secret", "CS_CALLBACK_TOKEN": "c" * 24,
                 "CS_ADMIN_SECRET": "admin-secret"}


def run_py(*argv, env=None, timeout=60):
    mark = secrets.token_hex(8)
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), *argv], cwd=ROOT,
                          env=marked_env(mark, **(env or {})), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    assert_none_left(mark)
    return done


def assert_one_line(done, *expected):
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("run.py"), lines[0]
    for text in expected:
        assert text in lines[0]
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.fixture
def bad_config(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"servicers": [{"id": "a", "capacity": 0}]}))
    return path


def test_a_bad_config_is_one_line_before_redis_starts(tmp_path, bad_config):
    done = run_py("serve", "--config", str(bad_config), "--data-dir", str(tmp_path),
                  "--port", str(free_port()), env=SERVE_SECRETS)
    assert_one_line(done, "bad.json", "servicers[0].capacity")
    assert not (tmp_path / "redis").exists()  # read before anything was started


def test_the_demo_reads_its_config_first(tmp_path, bad_config):
    done = run_py("demo", "--config", str(bad_config), "--data-dir", str(tmp_path / "d"),
                  "--base-port", str(free_port()))
    assert_one_line(done, "servicers[0].capacity")
    assert not (tmp_path / "d").exists()


def test_a_missing_knowledge_file_is_one_line(tmp_path):
    done = run_py("demo", "--knowledge", str(tmp_path / "nowhere.yaml"),
                  "--data-dir", str(tmp_path), "--base-port", str(free_port()))
    assert_one_line(done, "nowhere.yaml")


def test_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_py("serve", "--port", str(port), "--data-dir", str(tmp_path),
                      env=SERVE_SECRETS)
    assert_one_line(done, f"port {port} is in use")
    assert not (tmp_path / "redis").exists()


def test_an_unreachable_redis_is_one_line(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    done = run_py("serve", "--redis-url", url, "--port", str(free_port()), env=SERVE_SECRETS)
    assert_one_line(done, f"Redis at {url} does not answer")


def test_an_embedded_redis_that_cannot_start_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    done = run_py("serve", "--data-dir", str(tmp_path / "file"), "--port", str(free_port()),
                  env=SERVE_SECRETS)
    assert_one_line(done, "embedded Redis", str(tmp_path / "file"))


def test_a_wrong_network_is_one_line(tmp_path):
    done = run_py("serve", "--callback-allow", "10.0.0.0/8,notanet", "--port",
                  str(free_port()), "--data-dir", str(tmp_path), env=SERVE_SECRETS)
    assert_one_line(done, "--callback-allow", "notanet")
    assert not (tmp_path / "redis").exists()


def test_missing_secrets_are_one_line():
    done = run_py("serve", "--port", str(free_port()))
    assert_one_line(done, "missing settings", "robot_secret")


@pytest.mark.parametrize("argv, expected", [
    (["demo", "--colour"], "unrecognized arguments: --colour"),
    (["--base-port", "many"], "invalid int value: 'many'"),
    (["--log-level", "loud"], "invalid choice: 'loud'"),
    (["new-token"], "--role"),
])
def test_a_bad_flag_is_one_line(argv, expected):
    assert_one_line(run_py(*argv), expected)


def test_debug_adds_the_traceback(tmp_path, bad_config):
    done = run_py("--log-level", "debug", "serve", "--config", str(bad_config),
                  "--port", str(free_port()), "--data-dir", str(tmp_path), env=SERVE_SECRETS)
    assert done.returncode == 2
    assert "Traceback" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("run.py serve: ")


def test_a_stopped_serve_stops_its_embedded_redis(tmp_path):
    mark = secrets.token_hex(8)
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--port",
                             str(port), "--data-dir", str(tmp_path)], cwd=ROOT,
                            env=marked_env(mark, **SERVE_SECRETS), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with gevent.Timeout(30):
            assert any(line.startswith("CS server on ") for line in proc.stdout)
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        with gevent.Timeout(10):  # nothing left holds our pipe open (redis-server did)
            proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert_none_left(mark)


def test_every_option_has_help_and_a_shown_default():
    parser = run.build_parser(run.__doc__, run.HERE)
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) == set(run.COMMANDS)
    for name, sub in [("run.py", parser), *commands.items()]:
        text = sub.format_help()
        for bad in ("default ]", "default None", "default: None", "default: ]"):
            assert bad not in text, (name, bad)
        for action in sub._actions:
            if action.dest in ("help", "command"):
                continue
            assert action.help, (name, action.option_strings)
            assert "default" in action.help or "required" in action.help, \
                (name, action.option_strings)
    assert "With no command, run.py runs the demo" in parser.format_help()
