"""Starts and stops the actors of one CS server, wired together."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import gevent.pool
import pykka

from actors.autoreply import AutoReply, Knowledge, knowledge_from_config
from actors.call import ask, tell
from actors.clock import Clock, SystemClock
from actors.config import CsConfig
from actors.directory import Directory
from actors.durability.outbox import Deliver, Outbox
from actors.messages import BotAnswer, ShadowInfo
from actors.pool import ServicerPool
from actors.session import SessionActor, SessionDeps
from actors.session.snapshot import SessionSnapshot
from actors.supervision import Supervised

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECS = 5.0
RESTORE_TIMEOUT_SECS = 120.0
# External bot calls in flight at once; past this a question is answered from
# the knowledge base at once instead of waiting for a free call.
MAX_BOT_CALLS = 64


class CsActors(NamedTuple):
    """Handles of the long-lived actors, and the Outbox they all send through."""

    directory: Supervised[Directory]
    pool: Supervised[ServicerPool]
    outbox: Outbox
    autoreply: AutoReply

    @property
    def ready(self) -> bool:
        """Whether every long-lived actor is up (none is being restarted)."""
        return self.directory.ready and self.pool.ready

    def restarts(self) -> dict[str, int]:
        return {"directory": self.directory.restarts, "pool": self.pool.restarts}

    def stop(self) -> None:
        """Stop sessions first, then the directory, pool and outbox."""
        try:
            ask(self.directory, Directory.stop_sessions).get(timeout=STOP_TIMEOUT_SECS * 3)
        except (pykka.ActorDeadError, pykka.Timeout):
            log.warning("sessions did not all stop in time")
        self.directory.stop(timeout=STOP_TIMEOUT_SECS)
        self.pool.stop(timeout=STOP_TIMEOUT_SECS)
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
    pool: Supervised[ServicerPool] = Supervised(
        "the servicer pool", lambda on_death: ServicerPool.start(
            config, robot_id=robot_id, outbox=outbox, store=store, clock=clock,
            on_death=on_death))
    autoreply = AutoReply(knowledge or knowledge_from_config(config), config.human_words)
    control_types = frozenset(dataclasses.astuple(config.content_types))
    bot_calls = gevent.pool.Pool(MAX_BOT_CALLS) if ask_bot is not None else None
    directory: Supervised[Directory]

    def start_session(customer_id: str, data: dict[str, Any] | None) -> pykka.ActorRef[Any]:
        snapshot = SessionSnapshot.from_dict(data, customer_id) if data is not None else None
        deps = SessionDeps(config=config, robot_id=robot_id, outbox=outbox, pool=pool,
                           directory=directory, store=store, ensure_shadow=ensure_shadow,
                           clock=clock, autoreply=autoreply, ask_bot=ask_bot,
                           control_types=control_types, bot_calls=bot_calls)
        return SessionActor.start(customer_id, deps, snapshot)

    directory = Supervised("the directory", lambda on_death: Directory.start(
        config, robot_id=robot_id, start_session=start_session, pool=pool, outbox=outbox,
        store=store, on_death=on_death))

    def watch_servicers(ref: pykka.ActorRef[ServicerPool]) -> None:
        def changed(ids: frozenset[str]) -> None:
            tell(directory, Directory.servicers_changed, ids)

        ask(ref, ServicerPool.watch_servicers, changed).get(timeout=STOP_TIMEOUT_SECS)

    def pool_restarted(ref: pykka.ActorRef[ServicerPool]) -> None:
        watch_servicers(ref)
        tell(directory, Directory.pool_restarted)

    def directory_restarted(ref: pykka.ActorRef[Directory]) -> None:
        # The sessions it had started are orphans: each saves on stop, and
        # the new directory starts them again from what they saved.
        orphans = pykka.ActorRegistry.get_by_class(SessionActor)
        futures = [orphan.stop(block=False) for orphan in orphans]
        for future in futures:
            try:
                future.get(timeout=STOP_TIMEOUT_SECS)
            except Exception:
                log.warning("a session did not stop in time")
        watch_servicers(pool.ref)
        ask(ref, Directory.restore_sessions).get(timeout=RESTORE_TIMEOUT_SECS)
        ask(ref, Directory.replay_inbound).get(timeout=RESTORE_TIMEOUT_SECS)
        tell(ref, Directory.reconcile_pool)

    pool.on_restart.append(pool_restarted)
    directory.on_restart.append(directory_restarted)
    watch_servicers(pool.ref)
    if restore:
        ask(directory, Directory.restore_sessions).get(timeout=RESTORE_TIMEOUT_SECS)
        ask(directory, Directory.replay_inbound).get(timeout=RESTORE_TIMEOUT_SECS)
        tell(directory, Directory.reconcile_pool)
    return CsActors(directory, pool, outbox, autoreply)
