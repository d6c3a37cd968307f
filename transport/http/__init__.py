"""HTTP plumbing shared by every part: the JSON client, the gevent server, JSON bodies.

The client keeps connections alive per host with bounded time-outs; the
server is gevent's pywsgi with ``TCP_NODELAY``. Where a library's internals
were replaced for speed (the plain-HTTP client, the request header parser),
the replacement lives in its own module here, behind the library's own
interface.
"""

from transport.http.client import HttpError, JsonClient, JsonResponse
from transport.http.server import RunningServer, listen, start_server

__all__ = ["HttpError", "JsonClient", "JsonResponse", "RunningServer", "listen",
           "start_server"]
