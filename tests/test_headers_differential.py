"""Our request header parser (transport/http/headers.py) and pywsgi's own
(``http.client.parse_headers``, the e-mail package) read the same bytes into
the same answers to every question pywsgi asks, malformed blocks included,
and leave the same bytes unread for the body."""

import http.client
import io

import pytest
from gevent.pywsgi import headers_factory
from hypothesis import given, settings
from hypothesis import strategies as st

from transport.http.headers import MAX_HEADERS, Headers

NAMES = ["Host", "Content-Type", "content-length", "Transfer-Encoding", "Connection",
         "X_Under", "From", "X-Token", ""]
ENDINGS = ["\r\n", "\n", "\r"]
value_text = st.text(st.sampled_from("ab :\t\r\n\x7fé/=;,"), max_size=12)
names = st.one_of(st.sampled_from(NAMES), st.text(st.characters(max_codepoint=255), max_size=6))
lines = st.one_of(
    st.builds(lambda n, sep, v, e: n + sep + v + e, names,
              st.sampled_from([":", ": ", " :", ":\t", ""]), value_text,
              st.sampled_from(ENDINGS)),
    st.builds(lambda ws, v, e: ws + v + e, st.sampled_from([" ", "\t", "  "]), value_text,
              st.sampled_from(ENDINGS)),  # a continuation
    st.builds(lambda v, e: "From " + v + e, value_text, st.sampled_from(ENDINGS)),
    st.text(st.characters(max_codepoint=255), max_size=20),  # anything at all
)
blocks = st.builds(
    lambda ls, end, body: "".join(ls).encode("latin-1") + end + body,
    st.lists(lines, max_size=8), st.sampled_from([b"\r\n", b"\n", b""]),
    st.sampled_from([b"", b"body", b"\r\n\r\nmore"]))

QUESTIONS = ["content-type", "Content-Length", "transfer-encoding", "connection",
             "upgrade", "host", "from", "x_under", ""]


def answers(parse, raw):
    """Everything pywsgi reads from a header object, then what is left of ``raw``."""
    rfile = io.BytesIO(raw)
    try:
        headers = parse(rfile)
    except http.client.HTTPException as exc:
        return ("raised", type(exc).__name__, str(exc))
    seen = [headers.status, list(headers.headers), headers.typeheader,
            [(headers.get(q), headers.getheader(q, "-")) for q in QUESTIONS]]
    for name in ("content-length", "HOST"):
        del headers[name]
        seen += [list(headers.headers), headers.get(name)]
    return seen, rfile.read()


@settings(max_examples=400, deadline=None)
@given(raw=blocks)
def test_generated_header_blocks_read_as_pywsgi_reads_them(raw):
    assert answers(Headers.read, raw) == answers(headers_factory, raw)


@pytest.mark.parametrize("raw", [
    b"Host: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    b"X-Long: a\r\n  b\r\nHost: x\r\n\r\n",
    b"no colon here\r\nHost: x\r\n\r\n",
    b" leading continuation\r\nHost: x\r\n\r\n",
    b"From someone\r\nHost: x\r\nFrom last\r\n\r\n",
    b": no name\r\nHost: x\r\n\r\n",
    b"X: a\rInjected: b\r\n\r\n",
    b"X: trailing blanks \t \r\n\r\n",
    b"X: " + b"a" * 70000 + b"\r\n\r\n",
    b"X: a\r\n" * MAX_HEADERS + b"\r\n",
    b"X: a\r\n" * (MAX_HEADERS - 1) + b"\r\n",
    b"Host: x\r\n",  # the connection ended before the empty line
], ids=["plain", "folded", "no-colon", "first-continuation", "envelope", "no-name",
        "bare-cr", "trailing-blanks", "long-line", "too-many", "just-enough", "eof"])
def test_awkward_header_blocks_read_as_pywsgi_reads_them(raw):
    assert answers(Headers.read, raw) == answers(headers_factory, raw)
