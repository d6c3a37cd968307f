"""What every session is given: its collaborators, shared by all sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from storage.errors import CsError

if TYPE_CHECKING:
    from actors.autoreply.engine import AutoReply
    from actors.autoreply.inbox import Inbox
    from actors.call import Address
    from actors.clock import Clock
    from actors.config import CsConfig
    from actors.durability.outbox import Outbox
    from actors.messages import BotAnswer, ShadowInfo
    from storage import Store


class ShadowError(CsError):
    """The Shadow could not be created or looked up."""

    code = "shadow_failed"
    http_status = 502


class SessionDeps(NamedTuple):
    """The collaborators every session shares (handles and plain objects)."""

    config: CsConfig
    robot_id: str
    outbox: Outbox
    pool: Address  # the ServicerPool (a supervised handle: it may be restarted)
    directory: Address  # the Directory (likewise)
    store: Store
    ensure_shadow: Callable[[str], ShadowInfo]
    clock: Clock
    autoreply: AutoReply
    # (customer id, question) -> the external bot's answer, or None on failure;
    # blocking with a time-out, so it runs in a greenlet of the bot_calls pool.
    ask_bot: Callable[[str, str], BotAnswer | None] | None = None
    control_types: frozenset[int] = frozenset()  # left out of transcripts
    bot_calls: Any = None  # gevent.pool.Pool bounding the external bot's calls in flight
    inbox: Inbox | None = None  # where the bot's misses are filed for teaching (one, shared)
