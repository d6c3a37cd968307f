"""What our two hand-rolled HTTP parts save the CS server per answer, next to
the libraries they replace.

    python benchmarks/httpparts.py [--requests 5000] [--rounds 5]

benchmarks/pipeline.py stops at the HTTP layers, so this measures them: each
answer is one callback the server reads (its request headers: our parser in
transport/http/server.py, or pywsgi's own, which uses http.client's) and one
robot API send (transport/http/http1.py, or geventhttpclient). The peer runs
in a child process pinned to the other core, so only this process's CPU is
counted. Within each round the two versions of a part run one after the
other, taking turns at going first; it prints CPU µs per request for each,
and the medians and ranges of the differences.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import atexit  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIHandler  # noqa: E402
from gevent.server import StreamServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transport.http import jsoncodec  # noqa: E402
from transport.http.server import NoDelayWSGIServer, listen  # noqa: E402

CONCURRENCY = 5  # the IM server's OkHttp sends at most 5 callbacks at once per host
SEND_CONCURRENCY = 16
ROBOT_ANSWER = jsoncodec.dumps({"code": 0, "msg": "success",
                                "result": {"messageUid": 1234567890123, "timestamp": 1}})
CALLBACK_BODY = jsoncodec.dumps({
    "messageId": 1234567890123, "sender": "customer-42",
    "conv": {"type": 0, "target": "cs_robot", "line": 0},
    "payload": {"type": 1, "searchableContent": "How do I reset my password?",
                "persistFlag": 3}, "timestamp": 1764000000000})


def callback_request(port: int) -> bytes:
    """A callback as OkHttp 3 sends it."""
    return (f"POST /im/robot/0123456789abcdef HTTP/1.1\r\n"
            f"Content-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(CALLBACK_BODY)}\r\nHost: 127.0.0.1:{port}\r\n"
            "Connection: Keep-Alive\r\nAccept-Encoding: gzip\r\n"
            "User-Agent: okhttp/3.11.0\r\n\r\n").encode() + CALLBACK_BODY


def child_callbacks(port: int, count: int) -> None:
    """The IM server's side: ``count`` callbacks over CONCURRENCY keep-alive connections."""
    request = callback_request(port)

    def connection(n: int) -> None:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        for _ in range(n):
            sock.sendall(request)
            while b"\r\n\r\n" not in buffer:
                buffer += sock.recv(65536)
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(buffer) < length:
                buffer += sock.recv(65536)
            buffer = buffer[length:]
        sock.close()

    gevent.joinall([gevent.spawn(connection, count // CONCURRENCY) for _ in range(CONCURRENCY)],
                   raise_error=True)


def child_robot_api() -> None:
    """The IM server's robot API: the same answer to every request, read as it comes."""
    response = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\n"
                f"Content-Length: {len(ROBOT_ANSWER)}\r\n\r\n").encode() + ROBOT_ANSWER

    def serve(sock: socket.socket, _: object) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                data = sock.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(buffer) < length:
                buffer += sock.recv(65536)
            buffer = buffer[length:]
            sock.sendall(response)

    server = StreamServer(("127.0.0.1", 0), serve)
    server.start()
    print(server.server_port, flush=True)
    server.serve_forever()  # until the parent ends it


def child(args: list[str], core: str) -> subprocess.Popen[str]:
    return subprocess.Popen(["taskset", "-c", core, sys.executable, __file__, *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def cpu_us(run: Callable[[], None], count: int) -> float:
    started = time.process_time()
    run()
    return 1e6 * (time.process_time() - started) / count


def app(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
    """What our callback route costs besides the headers: read the body, answer."""
    stream = environ["wsgi.input"]
    stream.read(int(str(environ.get("CONTENT_LENGTH") or 0)))  # type: ignore[attr-defined]
    body = b'{"ok":true}'
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


class LibraryHeadersHandler(WSGIHandler):
    """pywsgi's own header parsing (http.client.parse_headers); like ours,
    no access log line."""

    def log_request(self) -> None:
        pass


class LibraryHeadersServer(NoDelayWSGIServer):
    handler_class = LibraryHeadersHandler


def server_side(count: int, other_core: str) -> Callable[[str], float]:
    servers = {"ours": NoDelayWSGIServer(listen(), app, log=None),
               "library": LibraryHeadersServer(listen(), app, log=None)}
    for server in servers.values():
        server.start()

    def measure(which: str) -> float:
        port = servers[which].server_port

        def run() -> None:
            proc = child(["--callbacks", str(port), str(count)], other_core)
            proc.communicate()
        return cpu_us(run, count)
    return measure


def client_side(count: int, other_core: str) -> Callable[[str], float]:
    from geventhttpclient import HTTPClient

    from transport.http.http1 import Http1Pool

    peer = child(["--robot-api"], other_core)
    atexit.register(peer.kill)
    assert peer.stdout is not None
    port = int(peer.stdout.readline())
    body = jsoncodec.dumps({"sender": "cs_robot", "conv": {"type": 0, "target": "c42",
                                                           "line": 0},
                            "payload": {"type": 1, "searchableContent": "An answer " * 8}})
    headers = {"Content-Type": "application/json; charset=utf-8", "nonce": "76543",
               "timestamp": "1700000000000", "rid": "cs_robot",
               "sign": "1e78ea903bf6cd5b2481915ace75813e52663aa1"}
    ours = Http1Pool("127.0.0.1", port, SEND_CONCURRENCY, 2.0, 5.0)
    library = HTTPClient("127.0.0.1", port, concurrency=SEND_CONCURRENCY,
                         connection_timeout=2.0, network_timeout=5.0)

    def send_ours() -> None:
        assert ours.request("POST", "/robot/message/send", body, headers).status == 200

    def send_library() -> None:
        response = library.request("POST", "/robot/message/send", body=body, headers=headers)
        response.read()
        assert response.status_code == 200

    def measure(which: str) -> float:
        send = send_ours if which == "ours" else send_library

        def sender() -> None:
            for _ in range(count // SEND_CONCURRENCY):
                send()
        return cpu_us(lambda: gevent.joinall(
            [gevent.spawn(sender) for _ in range(SEND_CONCURRENCY)], raise_error=True),
            count // SEND_CONCURRENCY * SEND_CONCURRENCY)
    return measure


def main() -> None:
    if sys.argv[1:2] == ["--callbacks"]:
        child_callbacks(int(sys.argv[2]), int(sys.argv[3]))
        return
    if sys.argv[1:2] == ["--robot-api"]:
        child_robot_api()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    other = str(cores[-1])
    os.sched_setaffinity(0, {cores[0]})
    for name, measure in (("request headers (server)", server_side(args.requests, other)),
                          ("robot API send (client)", client_side(args.requests, other))):
        measure("ours"), measure("library")  # warm up: connections, caches
        saved = []
        for i in range(args.rounds):
            order = ("ours", "library") if i % 2 == 0 else ("library", "ours")
            costs = {which: measure(which) for which in order}
            saved.append(costs["library"] - costs["ours"])
            print(f"{name}: ours {costs['ours']:.1f}, library {costs['library']:.1f} "
                  f"µs of CPU per request", flush=True)
        print(f"{name}: ours saves median {statistics.median(saved):.1f} µs per answer "
              f"(range {min(saved):.1f} to {max(saved):.1f})", flush=True)


if __name__ == "__main__":
    main()
