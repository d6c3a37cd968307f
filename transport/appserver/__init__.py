"""The App Server, the only holder of the IM admin secret, and the CS server's way to it.

The server creates the CS Robot at set-up and Shadows on demand for a CS
server that signs its requests (HMAC, with a replay cache); the client and
the provisioner are the CS server's side, which may also create Shadows
itself in trusted mode.
"""

from transport.appserver.client import AppServerClient
from transport.appserver.server import make_appserver_app

__all__ = ["AppServerClient", "make_appserver_app"]
