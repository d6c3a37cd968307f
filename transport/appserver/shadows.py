"""How the CS server gets a Shadow: through the App Server, or itself in trusted mode."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from actors.config import CsConfig
from actors.messages import ShadowInfo
from actors.session import ShadowError
from transport.appserver.client import AppServerClient
from transport.appserver.server import IdTaken, create_shadow
from transport.http.client import HttpError
from transport.wildfire.api import AdminApi, ImApiError
from transport.wildfire.signing import shadow_secret

log = logging.getLogger(__name__)


class ShadowMaker(Protocol):
    def __call__(self, *, customer_id: str, shadow_id: str, secret: str,
                 callback: str) -> ShadowInfo: ...


class ShadowProvisioner:
    """``ensure_shadow(customer_id)`` for sessions: create or refresh, with time-outs."""

    def __init__(self, config: CsConfig, *, robot_id: str, robot_secret: str,
                 callback_url: str, maker: ShadowMaker) -> None:
        self._config = config
        self._robot_id = robot_id
        self._robot_secret = robot_secret
        self._callback_url = callback_url
        self._maker = maker

    def __call__(self, customer_id: str) -> ShadowInfo:
        shadow_id = self._config.shadow_id(customer_id)
        try:
            return self._maker(customer_id=customer_id, shadow_id=shadow_id,
                               secret=shadow_secret(self._robot_secret, shadow_id),
                               callback=self._callback_url)
        except (HttpError, ImApiError, IdTaken) as exc:
            raise ShadowError(f"{exc.__class__.__name__}: {exc}") from None

    @classmethod
    def via_app_server(cls, config: CsConfig, *, robot_id: str, robot_secret: str,
                       callback_url: str, app_server: AppServerClient) -> ShadowProvisioner:
        return cls(config, robot_id=robot_id, robot_secret=robot_secret,
                   callback_url=callback_url, maker=app_server.create_shadow)

    @classmethod
    def trusted(cls, config: CsConfig, *, robot_id: str, robot_secret: str,
                callback_url: str, admin: AdminApi) -> ShadowProvisioner:
        def maker(*, customer_id: str, shadow_id: str, secret: str,
                  callback: str) -> ShadowInfo:
            return create_shadow(admin, customer_id=customer_id, shadow_id=shadow_id,
                                 secret=secret, callback=callback, owner=robot_id)

        return cls(config, robot_id=robot_id, robot_secret=robot_secret,
                   callback_url=callback_url, maker=maker)


def robot_secrets(robot_id: str, robot_secret: str) -> Callable[[str], str]:
    """The secret-for-sender function the RobotApi signs with."""

    def secret_for(sender: str) -> str:
        return robot_secret if sender == robot_id else shadow_secret(robot_secret, sender)

    return secret_for
