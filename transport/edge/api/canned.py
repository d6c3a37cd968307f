"""Canned replies: the team's shared ones (a supervisor's) and each servicer's own."""

from __future__ import annotations

import string
from typing import Any

import bottle

from actors.session.canned import CANNED_NAME, MAX_CANNED_CHARS, PLACEHOLDERS
from storage.canned import CannedStore
from transport.edge.api.context import ApiContext
from transport.http.web import ApiError, json_body


def _checked_name(name: str) -> str:
    if not CANNED_NAME.match(name):
        raise ApiError(400, "bad_name", "a canned reply's name is 1-32 letters, digits, - or _")
    return name


def _checked_text(body: dict[str, Any]) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "bad_text", "text must be a non-empty string")
    if len(text) > MAX_CANNED_CHARS:
        raise ApiError(400, "too_long", f"text is over the limit of {MAX_CANNED_CHARS} characters")
    try:
        used = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    except ValueError:
        used = {"{"}
    if used - PLACEHOLDERS:
        raise ApiError(400, "bad_placeholder", "a canned reply takes {customer_name} and "
                       "{servicer_name} only (write {{ and }} for a brace)")
    return text


def install(app: bottle.Bottle, ctx: ApiContext) -> None:
    def owner() -> str | None:
        """Whose replies the caller changes: a supervisor's are the team's (None)."""
        principal = ctx.authenticate()
        return None if principal.is_supervisor else principal.servicer_id

    @app.get("/api/canned")
    def canned() -> dict[str, Any]:
        mine = owner()
        store = CannedStore.of(ctx.store)
        found: dict[str, Any] = {"configured": dict(ctx.config.canned),
                                 "shared": store.replies(None)}
        if mine is not None:
            found["own"] = store.replies(mine)
        return found

    @app.put("/api/canned/<name>")
    def put_canned(name: str) -> dict[str, Any]:
        mine = owner()
        text = _checked_text(json_body())
        CannedStore.of(ctx.store).put(mine, _checked_name(name), text)
        return {"name": name, "text": text, "shared": mine is None}

    @app.delete("/api/canned/<name>")
    def delete_canned(name: str) -> dict[str, Any]:
        mine = owner()
        if not CannedStore.of(ctx.store).delete(mine, _checked_name(name)):
            raise ApiError(404, "no_canned", f"no canned reply {name}")
        return {"deleted": name}
