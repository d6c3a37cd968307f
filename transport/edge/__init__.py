"""The CS server's HTTP edge: what the IM server, servicers and supervisors call.

It owns the IM callbacks (``/im/robot``, ``/im/shadow``) and the intake that
journals and routes them, the JSON API and its tokens, the web pages, and
``/healthz``, ``/readyz`` and ``/metrics``. A route only parses, checks and
tells an actor (or asks one, with a time-out); customer-service rules live
in ``actors/``.
"""

from transport.edge.app import make_cs_app

__all__ = ["make_cs_app"]
