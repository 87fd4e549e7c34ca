"""The checksum job's configuration (``include/config/checksum.yaml``), validated on load.

Trigger-form Params (prefixes, byte budget) override the file for one run through :func:`load_config`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reliability.core.config import CONFIG_DIR, ConfigError, read_yaml

CONFIG_PATH = CONFIG_DIR / "checksum.yaml"
GIB = 1024**3
MIB = 1024**2
KIB = 1024

__all__ = [
    "CONFIG_PATH",
    "GIB",
    "KIB",
    "MIB",
    "ChecksumConfig",
    "ConfigError",
    "check_prefix",
    "load_config",
    "narrow",
]


@dataclass(frozen=True)
class ChecksumConfig:
    prefixes: tuple[str, ...] = ("backups/", "uploads/")
    manifest_prefixes: tuple[str, ...] = ("backups/",)
    byte_budget: int = 200 * GIB
    cycle_days: float = 7.0
    shard_count: int = 4
    min_shard_bytes: int = 256 * MIB
    concurrency: int = 8
    chunk_bytes: int = 1 * MIB
    read_attempts: int = 4
    retry_backoff_seconds: float = 1.0
    retry_backoff_max_seconds: float = 30.0
    manifest_grace_hours: float = 6.0
    history_days: int = 90
    # A "manifest" bigger than this is not read into memory: real ones are a few kilobytes.
    max_manifest_bytes: int = 16 * MIB
    # Lowest acceptable share of verified objects per prefix (pushed with the ratio; an alert compares them).
    verified_ratio_floors: tuple[tuple[str, float], ...] = ()
    # A run limited to some prefixes (trigger form): its gauges go to their own Pushgateway group.
    narrowed: bool = False
    # The verifier canary (reliability.checksum.canary): an object every run must find mismatched.
    canary_key: str = "reliability-canary/checksum.bin"
    canary_bytes: int = 64 * KIB

    def __post_init__(self):
        if not self.prefixes:
            raise ConfigError("no prefixes to check: list at least one under `prefixes:` (e.g. backups/)")
        for prefix in self.prefixes + self.manifest_prefixes:
            check_prefix(prefix)
        if len(set(self.prefixes)) != len(self.prefixes):
            raise ConfigError(f"prefixes are listed twice: {list(self.prefixes)}")
        nested = [(a, b) for a in self.prefixes for b in self.prefixes if a != b and b.startswith(a)]
        if nested:
            # Overlapping prefixes would list (and check) the same objects twice.
            raise ConfigError(
                f"prefix {nested[0][1]!r} lies inside {nested[0][0]!r}; list only the outer one"
            )
        _at_least(self, "byte_budget", 1)
        _at_least(self, "shard_count", 1)
        _at_least(self, "min_shard_bytes", 1)
        _at_least(self, "concurrency", 1)
        _at_least(self, "chunk_bytes", 4 * KIB)
        _at_least(self, "read_attempts", 1)
        _at_least(self, "history_days", 1)
        _at_least(self, "max_manifest_bytes", KIB)
        if not 0 < self.cycle_days <= 366:
            raise ConfigError(f"cycle_days must be in (0, 366], got {self.cycle_days}")
        if self.retry_backoff_seconds < 0 or self.retry_backoff_max_seconds < self.retry_backoff_seconds:
            raise ConfigError("retry_backoff_seconds must be >= 0 and <= retry_backoff_max_seconds")
        if self.manifest_grace_hours < 0:
            raise ConfigError(f"manifest_grace_hours must be >= 0, got {self.manifest_grace_hours}")
        check_prefix(self.canary_key)
        if self.canary_key.endswith("/"):
            raise ConfigError(f"canary_key {self.canary_key!r} must name an object, not a prefix")
        _at_least(self, "canary_bytes", 1)
        for prefix, floor in self.verified_ratio_floors:
            if isinstance(floor, bool) or not isinstance(floor, (int, float)) or not 0 <= floor <= 1:
                raise ConfigError(
                    f"verified_ratio_floor of {prefix!r} must be a share in [0, 1], got {floor!r}"
                )
        if self.concurrency > 64:
            raise ConfigError(
                f"concurrency {self.concurrency} is more than 64 threads per task; use more shards"
            )

    def is_manifest_prefixed(self, key: str) -> bool:
        return any(key.startswith(p) for p in self.manifest_prefixes)


def check_prefix(prefix: Any) -> None:
    """A key prefix as S3 lists it: S3 keys are not paths, so ``../`` or ``/x`` would silently match nothing."""
    if not isinstance(prefix, str) or not prefix:
        raise ConfigError(f"prefix {prefix!r} must be a non-empty string such as 'uploads/'")
    segments = prefix.split("/")
    if prefix.startswith("/") or any(seg in (".", "..") for seg in segments) or "//" in prefix:
        raise ConfigError(
            f"prefix {prefix!r} is not a key prefix: S3 keys are not file paths, so '/', '.' and '..' "
            "segments match no object; give it as it starts the keys, e.g. 'uploads/tenant-001/'"
        )
    if any(ord(c) < 32 for c in prefix):
        raise ConfigError(f"prefix {prefix!r} contains control characters")


def narrow(config: ChecksumConfig, requested: list[str]) -> ChecksumConfig:
    """``config`` limited to the ``requested`` prefixes of one run (trigger-form Params).

    Each must be a key prefix (:func:`check_prefix`); one inside another requested one is dropped (its
    objects are checked once, under the outer one). A narrowed run that lists no object says so.
    """
    for prefix in requested:
        check_prefix(prefix)
    unique = list(dict.fromkeys(requested))
    outer = [p for p in unique if not any(o != p and p.startswith(o) for o in unique)]
    if tuple(outer) == config.prefixes:
        return config
    return replace(config, prefixes=tuple(outer), narrowed=True)


def _at_least(config: ChecksumConfig, name: str, minimum: int) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


# YAML key -> (field, multiplier): the file speaks in GiB/MiB/KiB, the code in bytes.
_YAML_FIELDS: dict[str, tuple[str, int | None]] = {
    "prefixes": ("prefixes", None),
    "manifest_prefixes": ("manifest_prefixes", None),
    "byte_budget_gib": ("byte_budget", GIB),
    "cycle_days": ("cycle_days", None),
    "shard_count": ("shard_count", None),
    "min_shard_mib": ("min_shard_bytes", MIB),
    "concurrency": ("concurrency", None),
    "chunk_kib": ("chunk_bytes", KIB),
    "read_attempts": ("read_attempts", None),
    "retry_backoff_seconds": ("retry_backoff_seconds", None),
    "retry_backoff_max_seconds": ("retry_backoff_max_seconds", None),
    "manifest_grace_hours": ("manifest_grace_hours", None),
    "history_days": ("history_days", None),
    "verified_ratio_floor": ("verified_ratio_floors", None),
    "canary_key": ("canary_key", None),
    "canary_kib": ("canary_bytes", KIB),
}


def config_from_mapping(data: dict[str, Any], source: str = "checksum config") -> ChecksumConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping of settings")
    unknown = sorted(set(data) - set(_YAML_FIELDS))
    if unknown:
        raise ConfigError(f"{source} has unknown settings {unknown}; known: {sorted(_YAML_FIELDS)}")
    values: dict[str, Any] = {}
    for yaml_key, value in data.items():
        name, unit = _YAML_FIELDS[yaml_key]
        if name in ("prefixes", "manifest_prefixes"):
            if not isinstance(value, list):
                raise ConfigError(f"{source}: {yaml_key} must be a list of key prefixes")
            value = tuple(value)
        elif name == "verified_ratio_floors":
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{source}: {yaml_key} must map key prefixes to shares, e.g. uploads/: 0.95"
                )
            value = tuple((str(k), v) for k, v in value.items())
        elif unit is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"{source}: {yaml_key} must be a positive number, got {value!r}")
            value = int(value * unit)
        values[name] = value
    return ChecksumConfig(**values)


def load_config(
    path: str | Path | None = None, *, prefixes: list[str] | None = None, byte_budget: int | None = None
) -> ChecksumConfig:
    """The file's settings, with a run's overrides (None keeps the file's value)."""
    path = Path(path) if path else CONFIG_PATH
    data = read_yaml(path, "checksum config") or {}
    config = config_from_mapping(data, str(path))
    if prefixes:
        config = narrow(config, list(prefixes))
    if byte_budget is not None:
        config = replace(config, byte_budget=byte_budget)
    return config
