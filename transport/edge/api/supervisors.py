"""Supervisors: who may watch live conversations from their IM client."""

from __future__ import annotations

from typing import Any

import bottle

from actors.call import tell
from actors.directory import Directory
from storage.supervisors import SupervisorStore
from transport.edge.api.context import ApiContext, checked_id
from transport.http.web import ApiError


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    def listing(added: frozenset[str]) -> dict[str, Any]:
        return {"configured": sorted(ctx.config.supervisors), "added": sorted(added)}

    def changed(store: SupervisorStore) -> dict[str, Any]:
        added = store.ids()
        tell(ctx.actors.directory, Directory.supervisors_changed, added)
        return listing(added)

    @app.get("/api/supervisors")
    def supervisors() -> dict[str, Any]:
        ctx.supervisor()
        return listing(SupervisorStore.of(ctx.store).ids())

    @app.put("/api/supervisors/<user_id>")
    def add_supervisor(user_id: str) -> dict[str, Any]:
        ctx.supervisor()
        store = SupervisorStore.of(ctx.store)
        store.add(checked_id(user_id, "user id"))
        return changed(store)

    @app.delete("/api/supervisors/<user_id>")
    def remove_supervisor(user_id: str) -> dict[str, Any]:
        ctx.supervisor()
        store = SupervisorStore.of(ctx.store)
        if not store.remove(checked_id(user_id, "user id")):
            raise ApiError(404, "no_supervisor", f"{user_id} was not added through the API")
        return changed(store)
