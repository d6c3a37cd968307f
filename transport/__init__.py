"""Everything that crosses a process boundary: HTTP apps, IM clients, the simulator."""

from transport.appserver import AppServerClient, make_appserver_app
from transport.csapp import make_cs_app
from transport.csserver import CsServer, CsSettings
from transport.imsim import ImSimulator, make_imsim_app
from transport.server import RunningServer, start_server
from transport.wildfire import AdminApi, RobotApi

__all__ = [
    "AdminApi", "AppServerClient", "CsServer", "CsSettings", "ImSimulator", "RobotApi",
    "RunningServer", "make_appserver_app", "make_cs_app", "make_imsim_app", "start_server",
]
