"""The JSON API for servicers and supervisors, one module per subject.

Every answer is JSON; errors are ``{"error": {"code", "message"}}`` with a
4xx status (transport/http/web.py maps the project's ``CsError`` tree).
Calls into actors are asks with a time-out (``ApiContext.ask``).
"""

from __future__ import annotations

from collections.abc import Callable

import bottle

from actors.config import CsConfig
from actors.system import CsActors
from storage import Store
from transport.edge.api import (
    archive,
    autoreply,
    canned,
    console,
    overview,
    queue,
    servicers,
    sessions,
    supervisors,
)
from transport.edge.api.context import ApiContext
from transport.edge.auth import Principal
from transport.edge.intake import Intake

__all__ = ["ApiContext", "install_api"]


def install_api(app: bottle.Bottle, *, actors: CsActors, store: Store, config: CsConfig,
                intake: Intake, authenticate: Callable[[], Principal],
                reload_knowledge: Callable[[], int] | None = None,
                traffic: Callable[[], list[list[int]]] | None = None) -> None:
    ctx = ApiContext(actors, store, config, intake, authenticate, reload_knowledge, traffic)
    for routes in (servicers, queue, sessions, overview, autoreply, canned, supervisors,
                   console, archive):
        routes.install(app, ctx)
