"""Customer-service rules as Pykka actors (sessions, the servicer pool, routing),
and the outbox they all send through."""

from actors.autoreply import AutoReply
from actors.clock import Clock, SystemClock
from actors.config import ConfigError, CsConfig, config_from_dict, load_config
from actors.directory import Directory
from actors.messages import Inbound, Outbound, Payload, Seat, Servicer, ShadowInfo, text_payload
from actors.outbox import Delivery, Outbox
from actors.pool import ServicerPool
from actors.session import SessionActor, SessionDeps, ShadowError
from actors.system import CsActors, start_actors

__all__ = [
    "AutoReply", "Clock", "ConfigError", "CsActors", "CsConfig", "Delivery", "Directory",
    "Inbound", "Outbound", "Outbox", "Payload", "Seat", "Servicer", "ServicerPool",
    "SessionActor", "SessionDeps", "ShadowError", "ShadowInfo", "SystemClock",
    "config_from_dict", "load_config", "start_actors", "text_payload",
]
