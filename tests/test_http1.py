"""The lean keep-alive client against real sockets, including awkward servers."""

import gevent
import pytest
from gevent.server import StreamServer

from transport.http.http1 import Http1Error, Http1Pool

OK_JSON = b'{"code":0}'


class Server:
    """A raw TCP server that answers each request with ``respond(n)`` (n counts
    requests on the connection), counting connections and requests."""

    def __init__(self, respond, close_after=None):
        self.respond = respond
        self.close_after = close_after
        self.connections = 0
        self.requests = []
        self.server = StreamServer(("127.0.0.1", 0), self.handle)
        self.server.start()
        self.port = self.server.server_port

    def handle(self, sock, _address):
        self.connections += 1
        buffer = b""
        served = 0
        while True:
            while b"\r\n\r\n" not in buffer:
                data = sock.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            while len(buffer) < length:
                buffer += sock.recv(65536)
            body, buffer = buffer[:length], buffer[length:]
            self.requests.append((head, body))
            sock.sendall(self.respond(served))
            served += 1
            if self.close_after is not None and served >= self.close_after:
                sock.close()
                return

    def pool(self, read_timeout=2.0):
        return Http1Pool("127.0.0.1", self.port, 4, 1.0, read_timeout)


def fixed(body, extra=b""):
    return lambda _n: (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n" % (len(body), extra)
                       + body)


@pytest.fixture
def servers():
    started = []
    yield lambda *a, **k: started.append(Server(*a, **k)) or started[-1]
    for s in started:
        s.server.stop()


def test_requests_reuse_one_connection_and_carry_headers_and_body(servers):
    server = servers(fixed(OK_JSON))
    pool = server.pool()
    for i in range(3):
        response = pool.request("POST", "/robot/message/send", b'{"i":%d}' % i,
                                {"nonce": "n1", "rid": "robot"})
        assert response == (200, OK_JSON)
    assert server.connections == 1
    head, body = server.requests[2]
    assert head.startswith(b"POST /robot/message/send HTTP/1.1\r\n")
    assert b"\r\nrid: robot" in head and b"\r\nHost: 127.0.0.1:" in head
    assert body == b'{"i":2}'


def test_a_chunked_response_is_decoded(servers):
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"4\r\n{\"co\r\n6;ext=1\r\nde\":0}\r\n0\r\nX-Trailer: 1\r\n\r\n")
    server = servers(lambda _n: chunked)
    pool = server.pool()
    assert pool.request("POST", "/", b"{}", {}) == (200, OK_JSON)
    assert pool.request("POST", "/", b"{}", {}) == (200, OK_JSON)
    assert server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced(servers):
    server = servers(fixed(OK_JSON), close_after=1)
    pool = server.pool()
    assert pool.request("POST", "/", b"{}", {}).status == 200
    gevent.sleep(0.05)  # the server has closed it by now
    assert pool.request("POST", "/", b"{}", {}).status == 200
    assert server.connections == 2
    assert len(server.requests) == 2  # nothing was sent twice


def test_connection_close_and_a_body_to_end_of_stream(servers):
    server = servers(lambda _n: b"HTTP/1.0 503 Busy\r\n\r\nbusy", close_after=1)
    pool = server.pool()
    assert pool.request("POST", "/", b"{}", {}) == (503, b"busy")
    assert pool.request("POST", "/", b"{}", {}) == (503, b"busy")
    assert server.connections == 2


def test_a_silent_server_times_out_with_an_error(servers):
    server = servers(lambda _n: gevent.sleep(5) or b"")
    with pytest.raises(Http1Error):
        server.pool(read_timeout=0.2).request("POST", "/", b"{}", {})


def test_refused_and_malformed_answers_are_errors(servers):
    with pytest.raises(Http1Error):
        Http1Pool("127.0.0.1", 1, 1, 1.0, 1.0).request("POST", "/", b"", {})
    server = servers(lambda _n: b"SMTP ready\r\n\r\n")
    with pytest.raises(Http1Error):
        server.pool().request("POST", "/", b"{}", {})


def test_header_values_with_line_breaks_are_refused_before_sending(servers):
    server = servers(fixed(OK_JSON))
    with pytest.raises(ValueError):
        server.pool().request("POST", "/", b"{}", {"rid": "robot\r\nX-Evil: 1"})
    assert server.requests == []
