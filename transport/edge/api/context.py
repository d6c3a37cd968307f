"""What every route of the JSON API shares: the actors, storage, who calls, and checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

import bottle
import pykka

from actors.call import Address
from actors.call import ask as ask_actor
from actors.config import CsConfig
from actors.pool import ServicerPool
from actors.system import CsActors
from storage import Store
from transport.edge.auth import Principal
from transport.edge.intake import Intake
from transport.http.web import ApiError

ASK_TIMEOUT_SECS = 5.0
MAX_ID_CHARS = 128

P = ParamSpec("P")
R = TypeVar("R")


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", "this token may not see or change that")


def checked_id(value: str, what: str) -> str:
    if not value or len(value) > MAX_ID_CHARS or any(ord(c) < 32 for c in value):
        raise ApiError(400, "bad_id", f"{what} must be 1..{MAX_ID_CHARS} printable characters")
    return value


def int_query(name: str, default: int | None, low: int, high: int) -> int | None:
    text = bottle.request.query.get(name)
    if text is None or text == "":
        return default
    # ASCII digits only: str.isdigit takes "²", which int() refuses (a 500).
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise ApiError(400, f"bad_{name}", f"{name} must be a whole number {low}..{high}")
    return int(text)


@dataclass(frozen=True)
class ApiContext:
    actors: CsActors
    store: Store
    config: CsConfig
    intake: Intake
    authenticate: Callable[[], Principal]
    reload_knowledge: Callable[[], int] | None = None
    traffic: Callable[[], list[list[int]]] | None = None

    def ask(self, actor: Address, method: Callable[Concatenate[Any, P], R], *args: P.args,
            **kwargs: P.kwargs) -> R:
        """Ask an actor, bounded: a route never waits longer than ASK_TIMEOUT_SECS.

        Raises:
            ApiError: 503 while the actor is being restarted or does not answer in time.
        """
        try:
            return ask_actor(actor, method, *args, **kwargs).get(timeout=ASK_TIMEOUT_SECS)
        except (pykka.ActorDeadError, pykka.Timeout):
            raise ApiError(503, "unavailable", "the server is busy or restarting a part; "
                           "try again in a moment", {"Retry-After": "1"}) from None

    def supervisor(self) -> Principal:
        principal = self.authenticate()
        if not principal.is_supervisor:
            raise forbidden()
        return principal

    def self_or_supervisor(self, servicer_id: str) -> Principal:
        principal = self.authenticate()
        if not principal.is_supervisor and principal.servicer_id != servicer_id:
            raise forbidden()
        return principal

    def customer_visible(self, customer_id: str) -> None:
        principal = self.authenticate()
        if not principal.is_supervisor and not self.ask(
                self.actors.pool, ServicerPool.serves_customer, principal.servicer_id,
                customer_id):
            raise forbidden()

    def known_servicer(self, servicer_id: str) -> dict[str, Any]:
        found = self.ask(self.actors.pool, ServicerPool.servicer,
                         checked_id(servicer_id, "servicer id"))
        if found is None:
            raise ApiError(404, "no_servicer", f"no servicer {servicer_id}")
        return dict(found)
