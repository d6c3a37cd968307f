"""Our keep-alive client (transport/http/http1.py) against http.client.

It reads a response as ``http.client.HTTPResponse`` does: for any bytes a
server sends, malformed included, both give the same status, body and
keep-alive decision, or both fail. The bytes reach ours in pieces of any
size, as a socket gives them. And it writes a request as
``HTTPConnection.request`` does: both refuse the same methods, targets and
headers, and what both send means the same to a server."""

import http.client
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transport.http.http1 import Http1Error, _Closed, _Reader, encode_request, read_response

ENDINGS = st.sampled_from(["\r\n", "\n"])
status_lines = st.one_of(
    st.sampled_from(["HTTP/1.1 200 OK", "HTTP/1.0 200 OK", "HTTP/1.1 204 No Content",
                     "HTTP/1.1 304 Not Modified", "HTTP/1.1 100 Continue",
                     "HTTP/1.1 101 Switching", "HTTP/1.1 503", "HTTP/2 200 OK",
                     "HTTP/0.9 200 OK", "HTTP/1.1 099 Low", "HTTP/1.1 1000 High",
                     "HTTP/1.1 +200 OK", "HTTP/1.1  200  OK", "ICY 200 OK", "HTTP/1.1",
                     "HTTP/1.1 2_00 OK", ""]),
    st.text(st.characters(max_codepoint=255), max_size=16))
header_lines = st.one_of(
    st.builds("Content-Length: {}".format, st.one_of(
        st.integers(-3, 30).map(str),
        st.sampled_from([" 5 ", "5, 5", "x", "1_0", "+3", "", "0x5"]))),
    st.builds("Transfer-Encoding: {}".format,
              st.sampled_from(["chunked", "Chunked", "gzip, chunked", "identity", ""])),
    st.builds("Connection: {}".format,
              st.sampled_from(["close", "keep-alive", "Keep-Alive", "upgrade, close", ""])),
    st.sampled_from(["Keep-Alive: timeout=5", "Proxy-Connection: keep-alive",
                     "Content-Type: application/json", " folded", "no colon", "From x"]),
    st.text(st.characters(max_codepoint=255), max_size=16))


@st.composite
def chunked_bodies(draw):
    body = ""
    for chunk in draw(st.lists(st.text("abc\r\n", max_size=8), max_size=3)):
        size = draw(st.one_of(st.just(len(chunk)), st.integers(-1, 12)))
        size_text = draw(st.sampled_from(["{:x}", "{:X}", "{:x};ext=1", " {:x} ", "{:x}z"]))
        body += size_text.format(size) + draw(ENDINGS) + chunk + draw(
            st.sampled_from(["\r\n", "\n", "", "xx"]))
    if draw(st.booleans()):
        body += "0" + draw(ENDINGS) + "".join(
            draw(st.lists(st.sampled_from(["X-Trailer: 1\r\n", "bad\n"]), max_size=2)))
        body += draw(st.sampled_from(["\r\n", "\n", ""]))
    return body


@st.composite
def responses(draw):
    ending = draw(ENDINGS)
    head = draw(status_lines) + ending
    head += "".join(line + draw(ENDINGS) for line in draw(st.lists(header_lines, max_size=5)))
    head += draw(st.sampled_from([ending, ""]))
    body = draw(st.one_of(chunked_bodies(), st.text("ab\r\n", max_size=12)))
    tail = draw(st.sampled_from(["", "HTTP/1.1 200 OK\r\n\r\n"]))
    return (head + body + tail).encode("latin-1")


class Feed:
    """A socket that has received ``raw`` and then the peer's close, handing
    it out ``size`` bytes at a time."""

    def __init__(self, raw, size=65536):
        self.stream = io.BytesIO(raw)
        self.size = size

    def recv(self, _limit):
        return self.stream.read(self.size)

    def makefile(self, _mode):
        return self.stream


def ours(raw, method, size):
    try:
        return read_response(_Reader(Feed(raw, size)), method)
    except (Http1Error, _Closed):
        return "error"


def library(raw, method):
    response = http.client.HTTPResponse(Feed(raw), method=method)
    try:
        response.begin()
        body = response.read()
    except http.client.HTTPException:
        return "error"
    return response.status, body, not response.will_close


@settings(max_examples=500, deadline=None)
@given(raw=responses(), method=st.sampled_from(["POST", "GET", "HEAD"]),
       size=st.integers(1, 64))
def test_generated_responses_read_as_http_client_reads_them(raw, method, size):
    assert ours(raw, method, size) == library(raw, method)


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=1\r\n{}\r\n0\r\nT: 1\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.0 503 Busy\r\n\r\nbusy",
    b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}",  # cut short
    b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n{}",  # read to the end instead
    b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 101 + b"\r\n",
    b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n",
    b"HTTP/1.1 200 " + b"a" * 70000 + b"\r\n\r\n",
    b"",
    b"SMTP ready\r\n\r\n",
], ids=["length", "chunked", "continue", "http10-close", "http10-keep", "short", "bad-length",
        "too-many-headers", "long-header", "long-status", "nothing", "not-http"])
def test_awkward_responses_read_as_http_client_reads_them(raw):
    assert ours(raw, "POST", 7) == library(raw, "POST")


OWN = {"host", "content-length", "transfer-encoding", "accept-encoding"}  # framing: never passed
header_text = st.text(st.sampled_from("aZ-_: \t\r\n\x00\x1f\x7fé中"), max_size=8)


class Capture:
    def __init__(self):
        self.sent = b""

    def sendall(self, data):
        self.sent += data

    def close(self):
        pass


def meaning(raw):
    """What a server reads: the request line, the headers, the body."""
    rfile = io.BytesIO(raw)
    line = rfile.readline()
    headers = http.client.parse_headers(rfile)
    return line, [h for h in headers.items() if h[0].lower() != "accept-encoding"], rfile.read()


def ours_request(method, target, body, headers):
    try:
        return meaning(encode_request(method, target, b"Host: 127.0.0.1:8080\r\n", body,
                                      headers))
    except ValueError:
        return "refused"


def library_request(method, target, body, headers):
    connection = http.client.HTTPConnection("127.0.0.1", 8080)
    connection.sock = Capture()
    try:
        connection.request(method, target, body, headers)
    except (ValueError, http.client.InvalidURL):
        return "refused"
    return meaning(connection.sock.sent)


@settings(max_examples=300, deadline=None)
@given(method=st.one_of(st.sampled_from(["POST", "GET"]), header_text),
       target=st.one_of(st.sampled_from(["/robot/message/send", "/a?b=c", ""]), header_text),
       body=st.binary(max_size=8),
       headers=st.dictionaries(header_text.filter(lambda n: n.lower() not in OWN),
                               header_text, max_size=3))
def test_generated_requests_are_written_as_http_client_writes_them(method, target, body,
                                                                   headers):
    assert ours_request(method, target, body, headers) == library_request(
        method, target, body, headers)
