"""The CS server's HTTP face: the IM callbacks, health, and the JSON API.

A callback handler checks the token, parses, checks the target and tells
the customer's session or the Directory (transport/intake.py); it never
waits for business logic, so the IM server's fire-and-forget POST is
answered in microseconds.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable, Sequence
from typing import Any

import bottle

from actors.config import CsConfig
from actors.system import CsActors
from storage import Store
from transport.edge.api import install_api
from transport.edge.auth import DemoTokens, Tokens, authenticator
from transport.edge.health import Readiness
from transport.edge.intake import Intake
from transport.edge.metrics import Metrics
from transport.edge.pages import install_pages
from transport.http.web import MAX_BODY_BYTES, ApiError, json_body, json_error_app
from transport.wildfire.callbacks import parse_callback

log = logging.getLogger(__name__)



def make_cs_app(*, actors: CsActors, config: CsConfig, store: Store, robot_id: str,
                callback_token: str, im_url: str, tokens: Tokens | None = None,
                callback_sources: Sequence[str] = (),
                max_body_bytes: int = MAX_BODY_BYTES,
                reload_knowledge: Callable[[], int] | None = None,
                metrics: Metrics | None = None, demo_sim_url: str = "",
                demo_tokens: DemoTokens | None = None) -> bottle.Bottle:
    """The Bottle app. ``callback_sources``: networks (CIDR) allowed to call back;
    empty allows any (the token still guards)."""
    app = json_error_app()
    allowed = [ipaddress.ip_network(n, strict=False) for n in callback_sources]
    directory = actors.directory
    intake = Intake(store, directory)
    readiness = Readiness(store, actors, intake, im_url)
    metrics = metrics or Metrics()
    metrics.watch(actors, intake, store)

    expected_token = callback_token.encode()

    def check_caller(token: str) -> None:
        # The address is read only when needed: every callback passes here.
        # The socket's peer: bottle's remote_addr reads X-Forwarded-For first,
        # which any caller can write.
        peer = bottle.request.environ.get("REMOTE_ADDR")
        if allowed and not _in_networks(peer, allowed):
            log.warning("callback from %s refused: not an allowed source", peer)
            raise ApiError(403, "source_not_allowed", "this address may not call back")
        if not hmac.compare_digest(token.encode(), expected_token):
            log.warning("callback with a wrong token from %s", bottle.request.remote_addr)
            raise ApiError(403, "bad_token", "unknown callback token")

    @app.post("/im/robot/<token>")
    @metrics.timed_callback("robot")
    def robot_callback(token: str) -> dict[str, Any]:
        check_caller(token)
        message = parse_callback(json_body(max_body_bytes))
        if message.target != robot_id:
            raise ApiError(400, "wrong_target", "callback is not for the CS Robot")
        if message.sender == robot_id or config.is_shadow_id(message.sender):
            raise ApiError(400, "wrong_sender", "robots do not talk to the CS Robot")
        return {"ok": True, "duplicate": not intake.accept(message, for_robot=True)}

    @app.post("/im/shadow/<token>")
    @metrics.timed_callback("shadow")
    def shadow_callback(token: str) -> dict[str, Any]:
        check_caller(token)
        message = parse_callback(json_body(max_body_bytes))
        if not config.is_shadow_id(message.target):
            raise ApiError(400, "wrong_target", "callback is not for a Shadow")
        return {"ok": True, "duplicate": not intake.accept(message, for_robot=False)}

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/metrics")
    def prometheus() -> bytes:
        return metrics.render()

    @app.get("/readyz")
    def readyz() -> Any:
        report = readiness.report()
        if not report["ready"]:
            bottle.response.status = 503
        return report

    install_api(app, actors=actors, store=store, config=config, intake=intake,
                authenticate=authenticator(tokens or Tokens()),
                reload_knowledge=reload_knowledge, traffic=metrics.traffic)
    install_pages(app, demo_sim_url=demo_sim_url, robot_id=robot_id, demo_tokens=demo_tokens)
    return app


def _in_networks(address: str | None, networks: list[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)
