"""The pywsgi server our apps run on."""

import urllib.request

import bottle

from transport.http.headers import FastHeadersHandler
from transport.http.server import NoDelayWSGIServer, RunningServer, listen


def test_requests_are_served_without_formatting_an_access_line():
    formatted = []

    class CountingHandler(FastHeadersHandler):
        def format_request(self):
            formatted.append(self.requestline)
            return super().format_request()

    app = bottle.Bottle()
    app.route("/hello")(lambda: "hi")
    server = NoDelayWSGIServer(listen(), app, log=None, handler_class=CountingHandler)
    server.start()
    running = RunningServer(server)
    try:
        with urllib.request.urlopen(running.url + "/hello", timeout=5) as response:
            assert (response.status, response.read()) == (200, b"hi")
    finally:
        running.stop()
    assert formatted == []
