"""Stand-ins for the world outside: the IM simulator and the load tool.

The simulator plays the part of the WildfireChat server we use (robot and
admin APIs with their signatures, rate limits and codes, and callbacks
delivered as the real server delivers them); the demo, the integration
tests and the load test run against it. The load tool drives many
simulated customers and servicers through it against a real CS server.
"""

from transport.sim.imsim import ImSimClient, ImSimulator, make_imsim_app

__all__ = ["ImSimClient", "ImSimulator", "make_imsim_app"]
