"""The web pages: servicer console, supervisor dashboard, customer demo.

Plain HTML, CSS and JavaScript files (no build step), served from
``transport/edge/static``. They call the JSON API with the bearer token the
person signs in with. In demo mode ``/demo`` plays a customer through the
IM simulator, through the routes in ``transport/edge/demo.py``.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import bottle

from transport.edge.auth import DemoTokens
from transport.edge.demo import install_demo

STATIC = Path(__file__).resolve().parent / "static"


def install_pages(app: bottle.Bottle, *, demo_sim_url: str = "", robot_id: str = "cs_robot",
                  demo_tokens: DemoTokens | None = None) -> None:
    """The pages, and ``/``: in demo mode a landing page linking them (signed in
    with the demo's tokens, if given); otherwise a JSON list of the routes,
    never a token."""

    @app.get("/")
    def index() -> Any:
        if demo_sim_url:
            return _landing(demo_tokens)
        routes = sorted({f"{r.method} {r.rule}" for r in app.routes},
                        key=lambda line: line.split(" ")[1])
        return {"service": "wildfire-cs", "routes": routes}

    @app.get("/static/<name>")
    def static(name: str) -> Any:
        return bottle.static_file(name, root=str(STATIC))

    @app.get("/favicon.ico")
    def favicon() -> Any:  # asked for by every browser: nothing, rather than a 404 logged
        return bottle.HTTPResponse(status=204)

    for page in ("console", "dashboard", "transcript"):
        app.route(f"/{page}", "GET", _page(f"{page}.html"))

    if not demo_sim_url:
        return
    app.route("/demo", "GET", _page("demo.html"))
    install_demo(app, demo_sim_url, robot_id)


def _page(name: str) -> Any:
    def serve() -> Any:
        response = bottle.static_file(name, root=str(STATIC))
        # No inline scripts: the pages load their code from /static only.
        response.set_header("Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data: https: http:")
        return response

    return serve


def _landing(tokens: DemoTokens | None) -> Any:
    """Links carry a token in the fragment (``#token=``): the page's script
    signs in with it, and a fragment is never sent to a server or logged."""
    links = [("/demo", "a customer's chat", "pick a customer name and open the chat")]
    if tokens is not None:
        links += [(f"/console#token={quote(t)}", f"{s}'s console", "a servicer, signed in")
                  for s, t in tokens.servicers.items()]
        links.append((f"/dashboard#token={quote(tokens.supervisor)}", "the dashboard",
                      "the supervisor, signed in"))
    else:
        links += [("/console", "the console", "a servicer"),
                  ("/dashboard", "the dashboard", "the supervisor")]
    items = "\n".join(f'<li><a href="{escape(href)}">{escape(name)}</a>: {escape(what)}</li>'
                      for href, name, what in links)
    response = bottle.HTTPResponse(body=f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wildfire-cs demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/app.css"></head>
<body><main class="landing"><h1>wildfire-cs demo</h1>
<p>Open the customer's chat and a servicer's console side by side: go on duty in the
console, ask for a person in the chat, answer, end, and rate.</p>
<ul>
{items}
</ul></main></body></html>
""")
    response.set_header("Content-Type", "text/html; charset=utf-8")
    response.set_header("Content-Security-Policy", "default-src 'self'")
    response.set_header("Referrer-Policy", "no-referrer")
    return response
