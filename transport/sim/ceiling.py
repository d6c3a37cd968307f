"""The ceiling for the load test: a bare Bottle handler on the same gevent server.

It parses the same callback body and answers as our handler does, and does
nothing else; what it sustains is the most any handler could on this server.
"""

from __future__ import annotations

from typing import Any

import bottle

from transport.http import jsoncodec


def make_bare_app() -> bottle.Bottle:
    app = bottle.Bottle()

    @app.post("/im/robot/<token>")
    def callback(token: str) -> dict[str, Any]:
        body = jsoncodec.loads(bottle.request.body.read())
        return {"ok": isinstance(body, dict), "duplicate": False}

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True}

    return app
