"""HTTP plumbing shared by every part: the JSON client, the gevent server, JSON bodies.

The client keeps connections alive per host with bounded time-outs; the
server is gevent's pywsgi with ``TCP_NODELAY``. Where a library's internals
were replaced for speed, the replacement lives in its own module here and is
held to the library by a differential test: the plain-HTTP client
(``http1.py``, against http.client) and the header parser (``headers.py``,
against pywsgi's own). docs/fenced.md lists them with what they save.
"""

from transport.http.client import HttpError, JsonClient, JsonResponse
from transport.http.server import RunningServer, listen, start_server

__all__ = ["HttpError", "JsonClient", "JsonResponse", "RunningServer", "listen",
           "start_server"]
