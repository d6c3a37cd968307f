"""The WildfireChat protocol (DESIGN.md §4): what its IM server sends us and takes from us.

Parsing and checking the robot callbacks, the robot API client that sends as
the CS Robot or a Shadow, the admin API client, the ``sign`` header, and
the result codes. Nothing here knows customer-service rules.
"""

from transport.wildfire.api import AdminApi, ImApiError, RobotApi
from transport.wildfire.callbacks import parse_callback
from transport.wildfire.signing import wildfire_headers, wildfire_sign

__all__ = ["AdminApi", "ImApiError", "RobotApi", "parse_callback", "wildfire_headers",
           "wildfire_sign"]
