"""Customer-service rules as Pykka actors (sessions, the servicer pool, routing),
and the outbox they all send through."""

from actors.autoreply.engine import AutoReply
from actors.clock import Clock, SystemClock
from actors.config import ConfigError, CsConfig, config_from_dict, load_config
from actors.directory import Directory
from actors.durability.outbox import Delivery, Outbox
from actors.messages import Inbound, Outbound, Payload, Seat, Servicer, ShadowInfo, text_payload
from actors.pool.actor import ServicerPool
from actors.session.actor import SessionActor, SessionDeps, ShadowError
from actors.system import CsActors, start_actors

__all__ = [
    "AutoReply", "Clock", "ConfigError", "CsActors", "CsConfig", "Delivery", "Directory",
    "Inbound", "Outbound", "Outbox", "Payload", "Seat", "Servicer", "ServicerPool",
    "SessionActor", "SessionDeps", "ShadowError", "ShadowInfo", "SystemClock",
    "config_from_dict", "load_config", "start_actors", "text_payload",
]
