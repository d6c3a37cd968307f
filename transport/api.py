"""The JSON API for servicers and supervisors: servicers, queue, sessions, history, stats.

Every answer is JSON; errors are ``{"error": {"code", "message"}}`` with a
4xx status. Calls into actors are asks with a time-out.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import bottle

from actors.config import ConfigError, servicer_from_dict
from actors.system import CsActors
from storage import Store
from transport.web import ApiError, json_body

ASK_TIMEOUT_SECS = 5.0
HISTORY_MAX_LIMIT = 500
MAX_ID_CHARS = 128


def bearer_check(api_token: str) -> Callable[[], None]:
    """Checks ``Authorization: Bearer <token>`` when a token is configured."""

    def check() -> None:
        if not api_token:
            return
        given = bottle.request.get_header("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {api_token}".encode()):
            raise ApiError(403, "bad_token", "missing or wrong bearer token")

    return check


def _int_query(name: str, default: int | None, low: int, high: int) -> int | None:
    text = bottle.request.query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ApiError(400, f"bad_{name}", f"{name} must be a whole number {low}..{high}")
    return int(text)


def _id(value: str, what: str) -> str:
    if not value or len(value) > MAX_ID_CHARS or any(ord(c) < 32 for c in value):
        raise ApiError(400, "bad_id", f"{what} must be 1..{MAX_ID_CHARS} printable characters")
    return value


def install_api(app: bottle.Bottle, *, actors: CsActors, store: Store,
                check: Callable[[], None]) -> None:
    pool, directory = actors.pool, actors.directory

    def ask(future: Any) -> Any:
        return future.get(timeout=ASK_TIMEOUT_SECS)

    @app.get("/api/servicers")
    def servicers() -> dict[str, Any]:
        check()
        return {"servicers": sorted(ask(pool.status()).values(), key=lambda s: s["id"])}

    @app.get("/api/servicers/<servicer_id>")
    def servicer(servicer_id: str) -> dict[str, Any]:
        check()
        found = ask(pool.servicer(_id(servicer_id, "servicer id")))
        if found is None:
            raise ApiError(404, "no_servicer", f"no servicer {servicer_id}")
        return dict(found)

    @app.put("/api/servicers/<servicer_id>")
    def put_servicer(servicer_id: str) -> dict[str, Any]:
        check()
        body = json_body()
        body["id"] = _id(servicer_id, "servicer id")
        try:
            definition = servicer_from_dict(body)
        except ConfigError as exc:
            raise ApiError(400, "bad_servicer", str(exc)) from None
        return dict(ask(pool.upsert_servicer(definition)))

    @app.post("/api/servicers/<servicer_id>/status")
    def set_status(servicer_id: str) -> dict[str, Any]:
        check()
        status = json_body().get("status")
        if status not in ("on", "paused", "off"):
            raise ApiError(400, "bad_status", "status must be on, paused or off")
        if ask(pool.servicer(servicer_id)) is None:
            raise ApiError(404, "no_servicer", f"no servicer {servicer_id}")
        ask(pool.set_status(servicer_id, status))
        return dict(ask(pool.servicer(servicer_id)))

    @app.get("/api/servicers/<servicer_id>/stats")
    def stats(servicer_id: str) -> dict[str, Any]:
        check()
        if ask(pool.servicer(_id(servicer_id, "servicer id"))) is None:
            raise ApiError(404, "no_servicer", f"no servicer {servicer_id}")
        counters = store.servicer_stats(servicer_id)
        first = counters.get("first_responses", 0)
        rated = counters.get("rated", 0)
        return {
            "servicer": servicer_id,
            "sessions": counters.get("sessions", 0),
            "replies": counters.get("replies", 0),
            "first_response_avg_secs": (round(counters["first_response_ms"] / first / 1000, 2)
                                        if first else None),
            "rated": rated,
            "rating_avg": round(counters.get("stars", 0) / rated, 2) if rated else None,
            "recent_ratings": store.ratings(servicer_id, 10),
        }

    @app.get("/api/queue")
    def queue() -> dict[str, Any]:
        check()
        return {"queue": ask(pool.queue())}

    @app.get("/api/sessions")
    def sessions() -> dict[str, Any]:
        check()
        return {"sessions": ask(directory.open_sessions())}

    @app.post("/api/sessions/<customer_id>/transfer")
    def transfer(customer_id: str) -> dict[str, Any]:
        check()
        target = json_body().get("to")
        if target is not None and not isinstance(target, str):
            raise ApiError(400, "bad_target", "to must be a servicer id, or null for the queue")
        reason = ask(pool.transfer(_id(customer_id, "customer id"), target or None))
        if reason:
            raise ApiError(409, "transfer_refused", reason)
        return {"ok": True}

    @app.get("/api/ratings/<session_id>")
    def rating(session_id: str) -> dict[str, Any]:
        check()
        found = store.rating(_id(session_id, "session id"))
        if found is None:
            raise ApiError(404, "no_rating", "this session has no rating")
        return found

    @app.get("/api/customers/<customer_id>/history")
    def history(customer_id: str) -> dict[str, Any]:
        check()
        limit = _int_query("limit", 50, 1, HISTORY_MAX_LIMIT)
        before = _int_query("before", None, 0, 2**53)
        after = _int_query("after", None, 0, 2**53)
        order = bottle.request.query.get("order", "newest")
        if order not in ("newest", "oldest"):
            raise ApiError(400, "bad_order", "order must be newest or oldest")
        assert limit is not None
        messages = store.history_page(_id(customer_id, "customer id"), limit, before, after,
                                      newest_first=order == "newest")
        return {"customer": customer_id, "order": order, "messages": messages}
