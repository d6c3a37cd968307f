"""The CS server's side of the App Server boundary: signed calls to create robots."""

from __future__ import annotations

import json
from typing import Any

from actors.messages import ShadowInfo
from transport.appserver.signing import hmac_headers
from transport.http.client import HttpError, JsonClient


class AppServerClient:
    """The CS server's side of the App Server boundary."""

    def __init__(self, base_url: str, key: str, client: JsonClient | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._key = key
        self._client = client or JsonClient()

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = hmac_headers(self._key, "POST", path, raw)
        response = self._client.post(self._base + path, None, headers, raw=raw)
        if response.status != 200 or not isinstance(response.body, dict):
            error = response.body.get("error") if isinstance(response.body, dict) else None
            raise HttpError(f"App Server answered {response.status}: {error}")
        return response.body

    def create_shadow(self, *, customer_id: str, shadow_id: str, secret: str,
                      callback: str) -> ShadowInfo:
        result = self.call("/api/shadows", {"customerId": customer_id, "shadowId": shadow_id,
                                            "secret": secret, "callback": callback})
        return ShadowInfo(str(result.get("shadowId", shadow_id)), str(result.get("name", "")),
                          str(result.get("portrait", "")))

    def create_cs_robot(self, *, secret: str, callback: str, name: str = "客服",
                        portrait: str = "") -> None:
        self.call("/api/cs-robot", {"secret": secret, "callback": callback,
                                    "name": name, "portrait": portrait})
