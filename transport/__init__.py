"""Everything that crosses a process boundary, one sub-package per role.

- ``edge``: the CS server's HTTP face (IM callbacks, JSON API, pages, health, metrics);
- ``wildfire``: the WildfireChat protocol (callback parsing, robot and admin clients, signing);
- ``appserver``: the App Server and the CS server's way of getting Shadows;
- ``http``: the HTTP client and server every part uses;
- ``sim``: the IM simulator and the load tool.

``csserver`` assembles one CS server from storage, actors and the edge;
``demo`` runs every part on this machine; ``webhook`` asks an external bot.
"""

from transport.appserver import AppServerClient, make_appserver_app
from transport.csserver import CsServer, CsSettings
from transport.edge import make_cs_app
from transport.http import RunningServer, start_server
from transport.sim import ImSimulator, make_imsim_app
from transport.wildfire import AdminApi, RobotApi

__all__ = [
    "AdminApi", "AppServerClient", "CsServer", "CsSettings", "ImSimulator", "RobotApi",
    "RunningServer", "make_appserver_app", "make_cs_app", "make_imsim_app", "start_server",
]
