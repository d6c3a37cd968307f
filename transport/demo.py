"""``run.py demo``: every part on this machine, wired as a deployment would be.

An embedded Redis, then the IM simulator, the App Server and the CS server
as child processes of ``run.py``. Each child gets only its own secrets (the
CS server never sees the IM admin secret: that is the App Server's point).
Then the demo's users are created, the CS Robot is registered through the
App Server, and what to open or type is printed.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from actors.config import CsConfig, load_config
from storage import EmbeddedRedis
from storage.embedded import stop_process
from transport.appserver.client import AppServerClient
from transport.edge.auth import new_token, token_hash
from transport.http.client import NotReady, wait_healthy
from transport.sim.imsim import ImSimClient

START_TIMEOUT_SECS = 30.0


def run_demo(*, config_path: str, data_dir: Path, base_port: int, knowledge_path: Path,
             run_py: Path, wait: Callable[[], None]) -> None:
    """Start everything, print the guide, ``wait()``, then stop everything."""
    redis = EmbeddedRedis(data_dir / "redis", port=base_port + 9).start()
    im_port, app_port, cs_port = base_port + 10, base_port + 20, base_port
    admin_secret, robot_secret = secrets.token_hex(16), secrets.token_hex(16)
    app_key, api_token = secrets.token_hex(32), secrets.token_hex(16)
    callback_token = secrets.token_hex(16)
    config = load_config(config_path)
    servicer_tokens = {s.id: new_token() for s in config.servicers}
    tokens_file = data_dir / "api-tokens.json"  # hashes only
    data_dir.mkdir(parents=True, exist_ok=True)
    tokens_file.write_text(json.dumps({"tokens": [
        {"sha256": token_hash(t), "role": "servicer", "servicer": s}
        for s, t in servicer_tokens.items()]}))
    children: list[subprocess.Popen[bytes]] = []

    def child(argv: list[str], **secret_env: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CS_")}
        env.update(secret_env, PYTHONUNBUFFERED="1")
        children.append(subprocess.Popen([sys.executable, str(run_py), *argv],
                                         env=env, stdin=subprocess.DEVNULL))

    try:
        child(["imsim", "--port", str(im_port)], CS_ADMIN_SECRET=admin_secret)
        child(["appserver", "--port", str(app_port),
               "--im-admin-url", f"http://127.0.0.1:{im_port}", "--redis-url", redis.url],
              CS_ADMIN_SECRET=admin_secret, CS_APPSERVER_KEY=app_key)
        child(["serve", "--port", str(cs_port), "--im-url", f"http://127.0.0.1:{im_port}",
               "--redis-url", redis.url, "--appserver-url", f"http://127.0.0.1:{app_port}",
               "--config", config_path, "--knowledge", str(knowledge_path),
               "--demo-sim-url", f"http://127.0.0.1:{im_port}",
               "--api-tokens-file", str(tokens_file)],
              CS_ROBOT_SECRET=robot_secret, CS_CALLBACK_TOKEN=callback_token,
              CS_APPSERVER_KEY=app_key, CS_API_TOKEN=api_token)
        for port in (im_port, app_port, cs_port):
            try:
                wait_healthy(f"http://127.0.0.1:{port}",
                             lambda: any(p.poll() is not None for p in children),
                             START_TIMEOUT_SECS, poll_secs=0.1)
            except NotReady as exc:
                raise SystemExit("demo: a part exited during start-up; see above" if exc.exited
                                 else f"demo: {exc}") from None
        sim = ImSimClient(f"http://127.0.0.1:{im_port}")
        for s in config.servicers:
            sim.put_user(s.id, s.name, s.portrait)
        sim.put_user("customer1", "张三 Zhang San", "https://example.com/zhang.png")
        AppServerClient(f"http://127.0.0.1:{app_port}", app_key).create_cs_robot(
            secret=robot_secret,
            callback=f"http://127.0.0.1:{cs_port}/im/robot/{callback_token}")
        print(guide(im_port, cs_port, config, api_token, servicer_tokens), flush=True)
        wait()
    finally:
        for proc in children:  # all at once, then each waited for (and reaped)
            proc.terminate()
        for proc in children:
            stop_process(proc, timeout_secs=10)
        redis.stop()


def guide(im_port: int, cs_port: int, config: CsConfig, api_token: str,
          servicer_tokens: dict[str, str]) -> str:
    """What to open and what to type, with this run's ports and tokens."""
    sim = f"http://127.0.0.1:{im_port}"
    cs = f"http://127.0.0.1:{cs_port}"
    servicer = config.servicers[0].id if config.servicers else "servicer1"
    send = f"curl -s {sim}/sim/send -H 'Content-Type: application/json' -d"
    tokens = "\n".join(f"    {s:<12} {t}" for s, t in servicer_tokens.items())
    return f"""
wildfire-cs demo is running.

Open in a browser (this machine):
  {cs}/demo        a customer's chat (pick a customer name, "Open chat")
  {cs}/console     a servicer's console; sign in with a servicer token:
{tokens}
  {cs}/dashboard   the supervisor's dashboard; token {api_token}

Or play it with curl through the IM simulator ({sim}):
  {send} '{{"sender":"{servicer}","target":"cs_robot","text":"/on"}}'
  {send} '{{"sender":"customer1","target":"cs_robot","payload":{{"type":10001,"persistFlag":0}}}}'
  {send} '{{"sender":"customer1","target":"cs_robot","text":"多少钱?"}}'
  {send} '{{"sender":"customer1","target":"cs_robot","text":"转人工"}}'
  {send} '{{"sender":"{servicer}","target":"customer1*Shadow","text":"您好，请问有什么可以帮您？"}}'
  {send} '{{"sender":"{servicer}","target":"customer1*Shadow","text":"/end"}}'
  curl -s {sim}/sim/inbox/customer1        (what customer1 received)
  curl -s -H 'Authorization: Bearer {api_token}' {cs}/api/customers/customer1/history

Stop with Ctrl-C.
"""
