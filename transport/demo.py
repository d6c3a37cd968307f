"""``run.py demo``: every part on this machine, wired as a deployment would be.

An embedded Redis, then the IM simulator, the App Server and the CS server
as child processes of ``run.py``. Each child gets only its own secrets (the
CS server never sees the IM admin secret: that is the App Server's point).
Then the demo's users are created, the CS Robot is registered through the
App Server, and what to open or type is printed.

Each run starts from a clean data directory: the simulator keeps its users,
robots and Shadows in memory only, so state restored from an earlier run
pointed at Shadows it did not know (code 253) and at the last run's seats.
``keep_data`` keeps the record (history, ratings, statistics) and still
drops the live state (sessions, seats, Shadows, journals).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from actors.autoreply.knowledge import load_knowledge
from actors.config import CsConfig, load_config
from storage import EmbeddedRedis
from storage.admin import forget_live_state
from storage.embedded import die_with_parent, stop_process
from transport.appserver.client import AppServerClient
from transport.edge.auth import DemoTokens, new_token, token_hash
from transport.http.client import NotReady, wait_healthy
from transport.sim.imsim import ImSimClient
from transport.startup import StartupError, check_port

START_TIMEOUT_SECS = 30.0
STOP_TIMEOUT_SECS = 15.0  # the CS server drains for up to 10 s
REDIS_PREFIX = "cs"
CUSTOMER = "customer1"
PORT_HINT = "is another demo running? use --base-port"
# What the demo writes in its data directory; a clean start removes these
# and nothing else (the directory may be one the user named).
OWN_FILES = ("redis", "api-tokens.json", "demo-tokens.json")


class DemoPorts(NamedTuple):
    cs: int
    redis: int
    im: int
    app: int

    @classmethod
    def from_base(cls, base: int) -> DemoPorts:
        return cls(cs=base, redis=base + 9, im=base + 10, app=base + 20)


def run_demo(*, config_path: str, knowledge_path: str, data_dir: Path, base_port: int,
             keep_data: bool, run_py: Path, wait: Callable[[], None]) -> None:
    """Check, start everything, print the guide, ``wait()``, then stop everything.

    Raises StartupError (or ConfigError) before anything is started when the
    config, the knowledge file, a port or the data directory is wrong.
    """
    config = load_config(config_path)
    load_knowledge(knowledge_path, config.human_words)  # refused here, not in a child
    ports = DemoPorts.from_base(base_port)
    for port in ports:
        check_port(port, hint=PORT_HINT)
    with _data_dir_lock(data_dir):
        if not keep_data:
            _clean(data_dir)
        _run(config=config, config_path=config_path, knowledge_path=knowledge_path,
             data_dir=data_dir, ports=ports, keep_data=keep_data, run_py=run_py, wait=wait)


def _run(*, config: CsConfig, config_path: str, knowledge_path: str, data_dir: Path,
         ports: DemoPorts, keep_data: bool, run_py: Path, wait: Callable[[], None]) -> None:
    admin_secret, robot_secret = secrets.token_hex(16), secrets.token_hex(16)
    app_key, callback_token = secrets.token_hex(32), secrets.token_hex(16)
    tokens = DemoTokens(secrets.token_hex(16), {s.id: new_token() for s in config.servicers})
    hashes_file, tokens_file = _write_tokens(data_dir, tokens)
    redis = EmbeddedRedis(data_dir / "redis", port=ports.redis).start()
    children: list[subprocess.Popen[bytes]] = []

    def child(argv: list[str], **secret_env: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CS_")}
        env.update(secret_env, PYTHONUNBUFFERED="1")
        # Own session: a terminal's Ctrl-C reaches the demo alone, which stops
        # the parts in order (the CS server first, while the simulator it
        # drains to is still up). die_with_parent: gone even if we are killed.
        children.append(subprocess.Popen(
            [sys.executable, str(run_py), *argv], env=env, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=die_with_parent))

    im, app, cs = (f"http://127.0.0.1:{port}" for port in (ports.im, ports.app, ports.cs))
    try:
        if keep_data:
            forget_live_state(redis.url, REDIS_PREFIX)
        child(["imsim", "--port", str(ports.im)], CS_ADMIN_SECRET=admin_secret)
        child(["appserver", "--port", str(ports.app), "--im-admin-url", im,
               "--redis-url", redis.url], CS_ADMIN_SECRET=admin_secret, CS_APPSERVER_KEY=app_key)
        child(["serve", "--port", str(ports.cs), "--im-url", im, "--redis-url", redis.url,
               "--redis-prefix", REDIS_PREFIX, "--appserver-url", app,
               "--config", config_path, "--knowledge", knowledge_path,
               "--demo-sim-url", im, "--demo-tokens-file", str(tokens_file),
               "--api-tokens-file", str(hashes_file)],
              CS_ROBOT_SECRET=robot_secret, CS_CALLBACK_TOKEN=callback_token,
              CS_APPSERVER_KEY=app_key, CS_API_TOKEN=tokens.supervisor)
        for url in (im, app, cs):
            try:
                wait_healthy(url, lambda: any(p.poll() is not None for p in children),
                             START_TIMEOUT_SECS, poll_secs=0.1)
            except NotReady as exc:
                raise StartupError("a part exited during start-up (its line is above)"
                                   if exc.exited else str(exc)) from None
        sim = ImSimClient(im)
        for s in config.servicers:
            sim.put_user(s.id, s.name, s.portrait)
        sim.put_user(CUSTOMER, "张三 Zhang San", "https://example.com/zhang.png")
        AppServerClient(app, app_key).create_cs_robot(
            secret=robot_secret, callback=f"{cs}/im/robot/{callback_token}")
        print(guide(ports, config, tokens, data_dir, keep_data), flush=True)
        wait()
    finally:
        _stop(children)
        redis.stop()


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """In the reverse order of their start, each waited for: the CS server,
    started last, stops first, while the simulator it drains to is still up."""
    for proc in reversed(children):
        stop_process(proc, timeout_secs=STOP_TIMEOUT_SECS)


@contextmanager
def _data_dir_lock(data_dir: Path) -> Iterator[None]:
    """One demo per data directory: a second one would wipe the first one's Redis
    and overwrite its token files, even on other ports."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "demo.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StartupError(f"{data_dir} is in use by another demo: stop it, or give "
                               "another --data-dir") from None
        yield


def _clean(data_dir: Path) -> None:
    for name in OWN_FILES:
        path = data_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _write_tokens(data_dir: Path, tokens: DemoTokens) -> tuple[Path, Path]:
    """The servicer tokens' hashes for the CS server's API, and the tokens
    themselves for the demo's landing page (owner-readable only)."""
    hashes = data_dir / "api-tokens.json"
    hashes.write_text(json.dumps({"tokens": [
        {"sha256": token_hash(t), "role": "servicer", "servicer": s}
        for s, t in tokens.servicers.items()]}))
    plain = data_dir / "demo-tokens.json"
    tokens.dump(plain)
    return hashes, plain


def guide(ports: DemoPorts, config: CsConfig, tokens: DemoTokens, data_dir: Path,
          keep_data: bool = False) -> str:
    """What to open and what to type, with this run's ports and tokens.

    Every indented line is a command that works when pasted into a shell
    (tests/test_demo_processes.py runs each one).
    """
    sim, cs = f"http://127.0.0.1:{ports.im}", f"http://127.0.0.1:{ports.cs}"
    servicer = config.servicers[0].id if config.servicers else "servicer1"
    shadow = config.shadow_id(CUSTOMER)
    send = f"curl -s -w '\\n' {sim}/sim/send -H 'Content-Type: application/json' -d"

    def says(sender: str, target: str, text: str) -> str:
        return f"    {send} '{_compact({'sender': sender, 'target': target, 'text': text})}'"

    enter = _compact({"sender": CUSTOMER, "target": "cs_robot",
                      "payload": {"type": config.content_types.enter, "persistFlag": 0}})
    kept = ("history, ratings and statistics\nfrom earlier runs, if any, are kept (--keep-data)"
            if keep_data else
            "each run starts afresh\n(--keep-data keeps history, ratings and statistics)")
    links = "\n".join(f"    {cs}/console#token={t}   ({s}'s console)"
                      for s, t in tokens.servicers.items())
    return f"""
wildfire-cs demo is running. Its state is in {data_dir}; {kept}.
Stop it with Ctrl-C.

In a browser on this machine, {cs}/ links every page with this run's tokens:
    {cs}/demo   (a customer's chat: pick a name, "Open chat")
{links}
    {cs}/dashboard#token={tokens.supervisor}   (the supervisor's dashboard)

Or play a conversation through the IM simulator: paste these lines one at a time.
{servicer} goes on duty:
{says(servicer, "cs_robot", "/on")}
{CUSTOMER} opens the chat (an enter message) and asks the bot:
    {send} '{enter}'
{says(CUSTOMER, "cs_robot", "多少钱?")}
{CUSTOMER} asks for a person; {servicer} gets the seat and writes to {shadow}:
{says(CUSTOMER, "cs_robot", "转人工")}
{says(servicer, shadow, "您好，请问有什么可以帮您？")}
{servicer} sends a canned reply (# alone lists them):
{says(servicer, shadow, "#hi")}
{servicer} ends the session; {CUSTOMER} is asked for a rating and gives 5 stars:
{says(servicer, shadow, "/end")}
{says(CUSTOMER, "cs_robot", "5 很好")}
What {CUSTOMER} received, one line per message:
    curl -s '{sim}/sim/inbox/{CUSTOMER}?format=text'
The supervisor's API token, for the API examples of the README:
    export TOKEN={tokens.supervisor}
The conversation as the CS server keeps it (the supervisor's token):
    curl -s -H 'Authorization: Bearer {tokens.supervisor}' '{cs}/api/customers/{CUSTOMER}/history?order=oldest' | python3 -m json.tool --no-ensure-ascii
"""  # noqa: E501


def _compact(body: dict[str, object]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
