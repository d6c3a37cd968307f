"""``/``: a landing page in demo mode, a list of routes in serve mode; never a token there."""

import urllib.request

import pytest

from conftest import start_stack
from transport.csserver import CsSettings
from transport.edge.auth import DemoTokens
from transport.http.client import JsonClient

http = JsonClient()


def test_serve_mode_root_lists_the_routes_and_no_token(redis_url):
    stack = start_stack(redis_url, api_token="supervisor-secret-token")
    try:
        response = http.get(stack.cs.url + "/")
        assert response.status == 200
        routes = response.body["routes"]
        assert "GET /api/queue" in routes and "POST /im/robot/<token>" in routes
        assert "GET /demo" not in routes
        assert "supervisor-secret-token" not in str(response.body)
        assert http.get(stack.cs.url + "/favicon.ico").status == 204  # not a 404 per page
    finally:
        stack.stop()


def test_demo_mode_root_links_every_page_signed_in(redis_url, tmp_path):
    tokens = DemoTokens("boss-token", {"alice": "alice-token"})
    tokens.dump(tmp_path / "demo-tokens.json")
    assert (tmp_path / "demo-tokens.json").stat().st_mode & 0o077 == 0  # owner only
    stack = start_stack(redis_url, demo=True,
                        demo_tokens_file=str(tmp_path / "demo-tokens.json"))
    try:
        with urllib.request.urlopen(stack.cs.url + "/", timeout=10) as response:
            page = response.read().decode()
            assert response.headers["Content-Type"].startswith("text/html")
        assert 'href="/demo"' in page
        assert 'href="/console#token=alice-token"' in page
        assert 'href="/dashboard#token=boss-token"' in page
    finally:
        stack.stop()


def test_demo_tokens_are_refused_outside_demo_mode():
    settings = CsSettings(im_url="http://im", robot_id="cs_robot", robot_secret="s",
                          callback_token="x" * 16, redis_url="redis://r", admin_secret="a",
                          demo_tokens_file="/tmp/demo-tokens.json")
    with pytest.raises(ValueError, match="demo mode"):
        settings.validate()
