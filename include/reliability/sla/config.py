"""The SLA job's configuration (``include/config/sla.yaml``), loaded and validated up front.

A mistake in the file fails the load with a message naming the key and what it should be, rather than
surfacing later as a wrong uptime figure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from reliability.core.config import CONFIG_DIR, ConfigError, lookup, read_yaml
from reliability.sla.uptime import MaintenancePolicy

DEFAULT_PATH = CONFIG_DIR / "sla.yaml"
DEFAULT_NAME_PATTERN = r"^(?P<tenant>[^/]+)/"
# logs from before the earliest window are what tell the state each monitor was in when it starts
MIN_LOOKBACK_DAYS = 1


@dataclass(frozen=True)
class MappingConfig:
    name_pattern: str = DEFAULT_NAME_PATTERN  # friendly name -> tenant slug, via the named group "tenant"
    monitors: Mapping[int, str] = field(default_factory=dict)  # monitor id -> tenant slug, wins over the name
    tenants: Mapping[str, str] = field(
        default_factory=dict
    )  # tenant slug -> plan, when no platform DB is used


@dataclass(frozen=True)
class SlaConfig:
    plans: Mapping[str, float]  # plan -> uptime target, e.g. pro -> 0.99
    mapping: MappingConfig = MappingConfig()
    maintenance_policy: MaintenancePolicy = MaintenancePolicy.EXCLUDE
    cross_check_tolerance: float = 0.001  # ratio: 0.001 is 0.1 percentage point
    lookback_days: int = 3

    def target(self, plan: str) -> float:
        return lookup(
            self.plans,
            plan,
            lambda known: (
                f"plan {plan!r} has no uptime target: add it under `plans:` in sla.yaml "
                f"(known plans: {', '.join(sorted(known))})"
            ),
        )


def load_config(path: str | Path = DEFAULT_PATH) -> SlaConfig:
    """sla.yaml, validated; a mistake is a :class:`~reliability.core.config.ConfigError` naming the file."""
    return parse_config(read_yaml(path, "SLA config file"), origin=str(path))


def parse_config(raw: Any, origin: str = "sla config") -> SlaConfig:
    top = _mapping(raw, origin, "the top level")
    # credits: validated by reliability.sla.credits (the service credits table)
    _only(
        top, {"plans", "mapping", "maintenance", "cross_check", "fetch", "credits"}, origin, "the top level"
    )

    plans_raw = _mapping(top.get("plans"), origin, "plans")
    if not plans_raw:
        raise ConfigError(f"{origin}: `plans` must map each plan to its uptime target, e.g. `pro: 0.99`")
    plans = {}
    for plan, target in plans_raw.items():
        if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target < 1:
            raise ConfigError(
                f"{origin}: plans.{plan} must be an uptime target strictly between 0 and 1 "
                f"(0.99 for 99%), got {target!r}"
            )
        plans[str(plan)] = float(target)

    mapping_raw = _mapping(top.get("mapping", {}), origin, "mapping")
    _only(mapping_raw, {"name_pattern", "monitors", "tenants"}, origin, "mapping")
    pattern = mapping_raw.get("name_pattern", DEFAULT_NAME_PATTERN)
    try:
        compiled = re.compile(str(pattern))
    except re.error as exc:
        raise ConfigError(
            f"{origin}: mapping.name_pattern is not a valid regular expression ({exc})"
        ) from None
    if "tenant" not in compiled.groupindex:
        raise ConfigError(
            f"{origin}: mapping.name_pattern must capture the tenant slug in a named group "
            f"(?P<tenant>...), got {pattern!r}"
        )
    monitors = {}
    for ident, slug in _mapping(mapping_raw.get("monitors", {}), origin, "mapping.monitors").items():
        try:
            monitors[int(ident)] = str(slug)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{origin}: mapping.monitors keys must be UptimeRobot monitor ids, got {ident!r}"
            ) from None
    tenants_raw = _mapping(mapping_raw.get("tenants", {}), origin, "mapping.tenants")
    tenants = {str(slug): str(plan) for slug, plan in tenants_raw.items()}
    for slug, plan in tenants.items():
        if plan not in plans:
            raise ConfigError(
                f"{origin}: mapping.tenants.{slug} has plan {plan!r}, which `plans` does not define"
            )

    maintenance = _mapping(top.get("maintenance", {}), origin, "maintenance")
    _only(maintenance, {"policy"}, origin, "maintenance")
    policy_raw = maintenance.get("policy", MaintenancePolicy.EXCLUDE.value)
    try:
        policy = MaintenancePolicy(policy_raw)
    except ValueError:
        raise ConfigError(
            f"{origin}: maintenance.policy must be one of "
            f"{', '.join(p.value for p in MaintenancePolicy)}, got {policy_raw!r}"
        ) from None

    cross_check = _mapping(top.get("cross_check", {}), origin, "cross_check")
    _only(cross_check, {"tolerance"}, origin, "cross_check")
    tolerance = cross_check.get("tolerance", 0.001)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise ConfigError(
            f"{origin}: cross_check.tolerance must be a ratio in [0, 1) "
            f"(0.001 is 0.1 percentage point), got {tolerance!r}"
        )

    fetch = _mapping(top.get("fetch", {}), origin, "fetch")
    _only(fetch, {"lookback_days"}, origin, "fetch")
    lookback = fetch.get("lookback_days", 3)
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < MIN_LOOKBACK_DAYS:
        raise ConfigError(
            f"{origin}: fetch.lookback_days must be a whole number of days >= "
            f"{MIN_LOOKBACK_DAYS}, got {lookback!r}"
        )

    return SlaConfig(
        plans=MappingProxyType(plans),
        mapping=MappingConfig(str(pattern), MappingProxyType(monitors), MappingProxyType(tenants)),
        maintenance_policy=policy,
        cross_check_tolerance=float(tolerance),
        lookback_days=lookback,
    )


def _mapping(value: Any, origin: str, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: {where} must be a mapping, got {type(value).__name__}")
    return value


def _only(section: dict, allowed: set[str], origin: str, where: str) -> None:
    unknown = set(map(str, section)) - allowed
    if unknown:
        raise ConfigError(
            f"{origin}: unknown key(s) {', '.join(sorted(unknown))} in {where} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
