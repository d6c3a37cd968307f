"""Clients for the WildfireChat server's robot API and admin API (DESIGN.md §4)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from actors.durability.outbox import Delivery
from actors.messages import Outbound
from storage import CsError
from transport.http.client import HttpError, JsonClient
from transport.wildfire.signing import wildfire_headers

log = logging.getLogger(__name__)

# Result codes of the IM server that we act on.
CODE_SUCCESS = 0
CODE_MISSING_HEADERS = 239
CODE_SIGN_EXPIRED = 243
CODE_BAD_SIGN = 244
CODE_OVER_FREQUENCY = 250
CODE_INVALID_PARAMETER = 251
CODE_NOT_EXIST = 253

# Codes worth another try: over frequency clears as the bucket drains; an
# expired sign is re-made fresh on the next attempt.
TRANSIENT_CODES = frozenset({CODE_OVER_FREQUENCY, CODE_SIGN_EXPIRED})


class ImApiError(CsError):
    """The IM server refused a call or answered with an error code."""

    code = "im_error"
    http_status = 502

    def __init__(self, im_code: int, message: str) -> None:
        super().__init__(f"IM server answered code {im_code}: {message}")
        self.im_code = im_code  # WildfireChat's result code (253: no such user, ...)


class RobotApi:
    """``POST {im}/robot/message/send`` as any robot whose secret we can name."""

    def __init__(self, base_url: str, secret_for: Callable[[str], str],
                 client: JsonClient | None = None) -> None:
        self._url = base_url.rstrip("/") + "/robot/message/send"
        self._secret_for = secret_for
        self._client = client or JsonClient()

    def deliver(self, message: Outbound) -> Delivery:
        """Send one message; classify the outcome for the Outbox."""
        body = {"sender": message.sender,
                "conv": {"type": 0, "target": message.target, "line": 0},
                "payload": message.payload.to_wire()}
        if not message.sender.isascii():  # the rid header carries it: sending can never work
            return Delivery(ok=False, retry=False, detail="a robot id beyond ASCII")
        headers = wildfire_headers(self._secret_for(message.sender), robot_id=message.sender)
        try:
            response = self._client.post(self._url, body, headers)
        except HttpError as exc:
            return Delivery(ok=False, retry=True, detail=str(exc))
        if response.status >= 500:
            return Delivery(ok=False, retry=True, detail=f"HTTP {response.status}")
        code = response.body.get("code") if isinstance(response.body, dict) else None
        if code == CODE_SUCCESS:
            return Delivery(ok=True)
        if code in TRANSIENT_CODES:
            return Delivery(ok=False, retry=True, detail=f"code {code}")
        return Delivery(ok=False, retry=False, detail=f"HTTP {response.status} code {code}")


class AdminApi:
    """The admin API: only the App Server (or a trusted CS server) holds its secret."""

    def __init__(self, base_url: str, admin_secret: str,
                 client: JsonClient | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._secret = admin_secret
        self._client = client or JsonClient()

    def _call(self, path: str, body: dict[str, Any]) -> Any:
        response = self._client.post(self._base + path, body, wildfire_headers(self._secret))
        result = response.body if isinstance(response.body, dict) else {}
        code = result.get("code", -1)
        if response.status != 200 or code != CODE_SUCCESS:
            raise ImApiError(code, str(result.get("msg", f"HTTP {response.status}")))
        return result.get("result")

    def get_user(self, user_id: str) -> dict[str, Any]:
        """``/admin/user/get_info``: the user's name, display name and portrait."""
        result = self._call("/admin/user/get_info", {"userId": user_id})
        return result if isinstance(result, dict) else {}

    def create_robot(self, *, user_id: str, name: str, display_name: str, portrait: str,
                     owner: str, secret: str, callback: str) -> dict[str, Any]:
        """``/admin/robot/create``: creates the robot, or updates it if it exists."""
        result = self._call("/admin/robot/create", {
            "userId": user_id, "name": name, "displayName": display_name,
            "portrait": portrait, "owner": owner, "secret": secret, "callback": callback})
        return result if isinstance(result, dict) else {}
