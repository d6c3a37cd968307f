"""Assembles one CS server from its settings: storage, actors, HTTP."""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import gevent

from actors.autoreply.knowledge import Knowledge, knowledge_from_config, load_knowledge
from actors.call import ask
from actors.clock import Clock
from actors.config import CsConfig
from actors.directory import Directory
from actors.system import CsActors, start_actors
from storage import Store, connect
from transport.appserver.client import AppServerClient
from transport.appserver.shadows import ShadowProvisioner, robot_secrets
from transport.edge.app import make_cs_app
from transport.edge.auth import SUPERVISOR, DemoTokens, Principal, Tokens, token_hash
from transport.edge.metrics import Metrics
from transport.http.server import RunningServer, listen, start_server
from transport.http.web import MAX_BODY_BYTES
from transport.webhook import bot_client
from transport.wildfire.api import AdminApi, RobotApi

log = logging.getLogger(__name__)

DRAIN_SECS = 10.0


@dataclass(frozen=True)
class CsSettings:
    """Where the CS server listens and whom it talks to (flags or environment)."""

    im_url: str
    robot_id: str
    robot_secret: str
    callback_token: str
    redis_url: str
    public_url: str = ""
    host: str = "127.0.0.1"
    port: int = 0
    appserver_url: str = ""
    appserver_key: str = ""
    im_admin_url: str = ""
    admin_secret: str = ""  # trusted mode: we create Shadows ourselves
    redis_prefix: str = "cs"
    api_token: str = ""  # a supervisor token given in plain (environment)
    api_tokens_file: str = ""  # hashed tokens with roles (see run.py new-token)
    callback_sources: tuple[str, ...] = ()  # CIDRs allowed to call back; () = any
    max_body_bytes: int = MAX_BODY_BYTES
    knowledge_path: str = ""  # YAML or JSON knowledge base; "" = the config's FAQ
    demo_sim_url: str = ""  # demo mode: /demo plays a customer through this simulator
    demo_tokens_file: str = ""  # demo mode: the tokens the landing page links with
    open_api: bool = False  # no API token configured: answer /api beyond loopback too
    rate_limit: tuple[int, float] | None = (1000, 10.0)
    config: CsConfig = field(default_factory=CsConfig)

    def validate(self) -> None:
        missing = [name for name in ("im_url", "robot_id", "robot_secret",
                                     "callback_token", "redis_url")
                   if not getattr(self, name)]
        if missing:
            raise ValueError("missing settings: " + ", ".join(missing))
        if not self.admin_secret and not (self.appserver_url and self.appserver_key):
            raise ValueError("give --appserver-url and its key, or --admin-secret "
                             "(trusted mode) so that Shadows can be created")
        if len(self.callback_token) < 16:
            raise ValueError("the callback token must be at least 16 characters")
        for network in self.callback_sources:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"--callback-allow: {network!r} is not a network "
                                 "(CIDR, such as 10.0.0.0/8)") from None
        if self.demo_tokens_file and not self.demo_sim_url:
            # Tokens on a web page are for a demo on this machine, never a server.
            raise ValueError("--demo-tokens-file is for demo mode (--demo-sim-url) only")


class CsServer:
    """A running CS server; ``stop()`` takes it down in order."""

    def __init__(self, settings: CsSettings, clock: Clock | None = None) -> None:
        settings.validate()
        self.settings = settings
        listener = listen(settings.host, settings.port)
        self.port = int(listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        public_url = (settings.public_url or self.url).rstrip("/")
        self.robot_callback_url = f"{public_url}/im/robot/{settings.callback_token}"
        self.shadow_callback_url = f"{public_url}/im/shadow/{settings.callback_token}"
        self.store = Store(connect(settings.redis_url), prefix=settings.redis_prefix)
        robot_api = RobotApi(settings.im_url,
                             robot_secrets(settings.robot_id, settings.robot_secret))
        config = settings.config
        self.metrics = Metrics()
        self.actors: CsActors = start_actors(
            config, robot_id=settings.robot_id, store=self.store,
            deliver=self.metrics.timed_delivery(robot_api.deliver),
            ensure_shadow=self._provisioner(),
            clock=clock, rate_limit=settings.rate_limit, knowledge=self._knowledge(),
            ask_bot=(bot_client(config.bot_webhook, config.bot_webhook_timeout_secs)
                     if config.bot_webhook else None))
        self.app = make_cs_app(actors=self.actors, config=settings.config, store=self.store,
                               robot_id=settings.robot_id,
                               callback_token=settings.callback_token,
                               im_url=settings.im_url, tokens=self._tokens(),
                               callback_sources=settings.callback_sources,
                               max_body_bytes=settings.max_body_bytes,
                               reload_knowledge=self.reload_knowledge, metrics=self.metrics,
                               demo_sim_url=settings.demo_sim_url,
                               demo_tokens=self._demo_tokens())
        self.http: RunningServer = start_server(self.app, listener=listener)
        log.info("CS server listening on %s:%s", settings.host, self.port)

    def _knowledge(self) -> Knowledge | None:
        path = self.settings.knowledge_path
        return load_knowledge(path, self.settings.config.human_words) if path else None

    def reload_knowledge(self) -> int:
        """Re-read the knowledge base file (API call or SIGHUP).

        Returns:
            how many entries it now has. A bad file raises ConfigError and the
            running knowledge stays.
        """
        knowledge = self._knowledge() or knowledge_from_config(self.settings.config)
        self.actors.autoreply.reload(knowledge)
        log.info("knowledge base reloaded: %d entries", len(knowledge.entries))
        return len(knowledge.entries)

    def _tokens(self) -> Tokens:
        s = self.settings
        tokens = Tokens.load(s.api_tokens_file) if s.api_tokens_file else Tokens()
        if s.api_token:
            tokens.add(token_hash(s.api_token), Principal(SUPERVISOR))
        if tokens.configured:
            return tokens
        if s.open_api:
            log.warning("no API tokens configured and --open-api given: /api is open to "
                        "anyone who can reach this port")
            return Tokens(open_to_all=True)
        log.info("no API tokens configured: /api answers only callers on this machine")
        return tokens

    def _demo_tokens(self) -> DemoTokens | None:
        path = self.settings.demo_tokens_file
        return DemoTokens.load(path) if path else None

    def _provisioner(self) -> ShadowProvisioner:
        s = self.settings
        common: dict[str, Any] = {"robot_id": s.robot_id, "robot_secret": s.robot_secret,
                                  "callback_url": self.shadow_callback_url}
        if s.admin_secret:
            return ShadowProvisioner.trusted(
                s.config, admin=AdminApi(s.im_admin_url or s.im_url, s.admin_secret), **common)
        return ShadowProvisioner.via_app_server(
            s.config, app_server=AppServerClient(s.appserver_url, s.appserver_key), **common)

    def stop(self, drain_secs: float = DRAIN_SECS) -> None:
        """Graceful stop: refuse new callbacks, finish handling the accepted ones,
        give the outbox ``drain_secs`` to deliver, then stop the actors.

        Anything still unsent stays in the outbound journal for the next start.
        """
        self.http.stop(timeout=drain_secs)
        ask(self.actors.directory, Directory.stop_sessions).get(timeout=drain_secs * 3)
        deadline = time.monotonic() + drain_secs
        backlog = self.actors.outbox.backlog()
        while backlog and time.monotonic() < deadline:
            gevent.sleep(0.05)
            backlog = self.actors.outbox.backlog()
        if backlog:
            log.warning("stopping with %d messages unsent; they are re-sent on start", backlog)
        self.actors.stop()
