"""Which UptimeRobot API the SLA job reads, from the ``uptimerobot`` connection, and the client for it.

The connection's host (or full URL) is the API base, its password the API key (v2) or token (v3). API v3
is chosen by ``extra: {"api_version": 3}`` or by a base URL ending in ``/v3``; anything else is v2 (a
base URL ending in ``/v2`` or ``/v3`` that contradicts ``api_version`` is a configuration error).
With v3, ``extra.v2_api_key`` (a read-only v2 key) is required for what v3 lacks (``RULES.md``, "API
v3"), and ``extra.v2_base_url`` may name the v2 base when it is not the v3 base with ``/v2`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from reliability.core.config import ConfigError
from reliability.sla.source import UptimeSource

API_VERSIONS = (2, 3)


@dataclass(frozen=True)
class UptimeRobotSettings:
    base_url: str
    api_key: str = field(repr=False)  # v2 API key, or v3 bearer token
    api_version: int = 2
    v2_api_key: str | None = field(default=None, repr=False)  # v3 only: for what v3 lacks
    v2_base_url: str | None = None

    @classmethod
    def from_connection(
        cls, base_url: str, password: str, extra: Mapping[str, Any] | None = None
    ) -> UptimeRobotSettings:
        """Settings from the connection's base URL, password and extra (errors name the extra key)."""
        extra = dict(extra or {})
        unknown = set(extra) - {"api_version", "v2_api_key", "v2_base_url"}
        if unknown:
            raise ConfigError(
                f"connection uptimerobot: unknown key(s) {', '.join(sorted(unknown))} in extra "
                "(allowed: api_version, v2_api_key, v2_base_url)"
            )
        path = urlsplit(base_url).path.rstrip("/")
        by_path = next((v for v in API_VERSIONS if path.endswith(f"/v{v}")), None)
        raw = extra.get("api_version", by_path or 2)
        try:
            version = int(raw)
        except (TypeError, ValueError):
            version = 0
        if version not in API_VERSIONS:
            raise ConfigError(f"connection uptimerobot: extra.api_version must be 2 or 3, got {raw!r}")
        if by_path and version != by_path:
            raise ConfigError(
                f"connection uptimerobot: the base URL ends in /v{by_path} but extra.api_version is {version}"
            )
        return cls(
            base_url=base_url,
            api_key=password,
            api_version=version,
            v2_api_key=extra.get("v2_api_key") or None,
            v2_base_url=extra.get("v2_base_url") or None,
        )

    def client(self, **transport: Any) -> UptimeSource:
        """The client for this API version; ``transport`` tunes retries and timeouts (tests)."""
        if self.api_version == 3:
            from reliability.sla.uptimerobot_v3 import UptimeRobotV3Client

            return UptimeRobotV3Client(
                self.base_url,
                self.api_key,
                v2_api_key=self.v2_api_key or "",
                v2_base_url=self.v2_base_url,
                **transport,
            )
        from reliability.sla.uptimerobot import UptimeRobotClient

        return UptimeRobotClient(self.base_url, self.api_key, **transport)
