"""Starts and stops the actors of one CS server, wired together."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import pykka

from actors.autoreply.engine import AutoReply
from actors.autoreply.knowledge import Knowledge, knowledge_from_config
from actors.clock import Clock, SystemClock
from actors.config import CsConfig
from actors.directory import Directory
from actors.durability.outbox import Deliver, Outbox
from actors.messages import BotAnswer, ShadowInfo
from actors.pool.actor import ServicerPool
from actors.session.actor import SessionActor, SessionDeps

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECS = 5.0
RESTORE_TIMEOUT_SECS = 120.0


class CsActors(NamedTuple):
    """Proxies of the long-lived actors, and the Outbox they all send through."""

    directory: Any
    pool: Any
    outbox: Outbox
    autoreply: AutoReply

    def stop(self) -> None:
        """Stop sessions first, then the directory, pool and outbox."""
        try:
            self.directory.stop_sessions().get(timeout=STOP_TIMEOUT_SECS * 3)
        except pykka.ActorDeadError:
            pass
        for proxy in (self.directory, self.pool):
            proxy.actor_ref.stop(block=True, timeout=STOP_TIMEOUT_SECS)
        self.outbox.stop()


def start_actors(config: CsConfig, *, robot_id: str, store: Store, deliver: Deliver,
                 ensure_shadow: Callable[[str], ShadowInfo], clock: Clock | None = None,
                 rate_limit: tuple[int, float] | None = None, restore: bool = True,
                 knowledge: Knowledge | None = None,
                 ask_bot: Callable[[str, str], BotAnswer | None] | None = None) -> CsActors:
    """Start the outbox, pool and directory; restore open sessions from storage.

    ``knowledge`` defaults to the config file's keyword FAQ.
    """
    clock = clock or SystemClock()
    outbox = Outbox(deliver, clock, rate_limit=rate_limit, journal=store).start()
    pool = ServicerPool.start(config, robot_id=robot_id, outbox=outbox, store=store,
                              clock=clock).proxy()
    autoreply = AutoReply(knowledge or knowledge_from_config(config), config.human_words)
    control_types = frozenset(dataclasses.astuple(config.content_types))

    def start_session(customer_id: str, directory: Any,
                      snapshot: dict[str, Any] | None) -> pykka.ActorRef[Any]:
        deps = SessionDeps(config=config, robot_id=robot_id, outbox=outbox, pool=pool,
                           directory=directory, store=store, ensure_shadow=ensure_shadow,
                           clock=clock, autoreply=autoreply, ask_bot=ask_bot,
                           control_types=control_types)
        return SessionActor.start(customer_id, deps, snapshot)

    directory = Directory.start(config, robot_id=robot_id, start_session=start_session,
                                pool=pool, outbox=outbox, store=store).proxy()
    pool.attach_directory(directory).get(timeout=STOP_TIMEOUT_SECS)
    if restore:
        directory.restore_sessions().get(timeout=RESTORE_TIMEOUT_SECS)
        directory.replay_inbound().get(timeout=RESTORE_TIMEOUT_SECS)
    return CsActors(directory, pool, outbox, autoreply)
