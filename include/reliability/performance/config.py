"""The performance watchdog's configuration (``include/config/performance.yaml``), validated on load.

Every mistake is a :class:`~reliability.core.config.ConfigError` naming the file, the line and the key, so
a wrong target is refused when the DAG is parsed rather than showing up as a wrong verdict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from reliability.core.config import CONFIG_DIR, ConfigError, read_text, yaml_error

DEFAULT_PATH = CONFIG_DIR / "performance.yaml"
_DURATION = re.compile(r"^(\d+)(s|m|h)$")
_LABEL_MATCHERS = re.compile(r'^(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"[^"]*"\s*,?)*$')
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


@dataclass(frozen=True)
class RedisConfig:
    commands: int = 200
    p99_target_seconds: float = 0.05
    latency_monitor_threshold_seconds: float = 0.01
    timeout_seconds: float = 5.0


@dataclass(frozen=True)
class ResponseTimeConfig:
    median_target_seconds: float = 2.0
    window: str = "5m"  # a PromQL range, the rate window of each step's median
    step_seconds: int = 60
    selector: str = ""  # label matchers added to every query
    route_label: str = "route"
    worst_windows: int = 5
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class ProviderTarget:
    latency_target_seconds: float
    objective_ratio: float


@dataclass(frozen=True)
class AiLatencyConfig:
    providers: Mapping[str, ProviderTarget] = field(default_factory=lambda: MappingProxyType({}))
    prometheus_histogram: str = "assistant_call_duration_seconds"
    cross_check_tolerance_ratio: float = 0.25


@dataclass(frozen=True)
class PerformanceConfig:
    redis: RedisConfig = RedisConfig()
    response_time: ResponseTimeConfig = ResponseTimeConfig()
    ai_latency: AiLatencyConfig = AiLatencyConfig()


class _Lines(dict):
    """A mapping from YAML that remembers the line of each key (and its own)."""

    line: int = 0
    lines: dict[str, int]


def _loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node):
        loader.flatten_mapping(node)
        result = _Lines()
        result.line, result.lines = node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            result[key] = loader.construct_object(value_node, deep=True)
            result.lines[key] = key_node.start_mark.line + 1
        return result

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return Loader


def load_config(path: str | Path = DEFAULT_PATH) -> PerformanceConfig:
    return parse_config(read_text(path, "performance config file"), str(path))


def parse_config(text: str, source: str = "performance config") -> PerformanceConfig:
    import yaml

    try:
        raw = yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source) from None
    if raw is None:
        raw = _Lines()
        raw.lines = {}
    top = _section(raw, None, source, "the top level", {"redis", "response_time", "ai_latency"})
    return PerformanceConfig(
        redis=_redis(top, source),
        response_time=_response_time(top, source),
        ai_latency=_ai_latency(top, source),
    )


def _where(parent: Mapping, key: str | None, source: str) -> str:
    if key is not None and isinstance(parent, _Lines) and key in parent.lines:
        return f"{source}, line {parent.lines[key]}"
    return f"{source}, line {getattr(parent, 'line', 0) or 1}"


def _section(parent: Mapping, key: str | None, source: str, name: str, allowed: set[str]) -> Mapping:
    value = parent if key is None else parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{_where(parent, key, source)}: {name} must be a mapping")
    unknown = sorted(set(map(str, value)) - allowed)
    if unknown:
        raise ConfigError(
            f"{_where(value, unknown[0], source)}: unknown key {unknown[0]!r} in {name} "
            f"(known: {', '.join(sorted(allowed))})"
        )
    return value


def _number(
    section: Mapping, key: str, default: float, source: str, name: str, *, low: float, high: float, what: str
) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(f"{_where(section, key, source)}: {name}.{key} must be {what}, got {value!r}")
    return float(value)


def _redis(top: Mapping, source: str) -> RedisConfig:
    fields_ = {"commands", "p99_target_seconds", "latency_monitor_threshold_seconds", "timeout_seconds"}
    s = _section(top, "redis", source, "redis", fields_)
    d = RedisConfig()
    commands = _number(
        s, "commands", d.commands, source, "redis", low=10, high=100_000, what="a count from 10 to 100000"
    )
    if commands != int(commands):
        raise ConfigError(f"{_where(s, 'commands', source)}: redis.commands must be a whole number")
    return RedisConfig(
        commands=int(commands),
        p99_target_seconds=_number(
            s, "p99_target_seconds", d.p99_target_seconds, source, "redis",
            low=1e-6, high=60, what="seconds above 0 (0.05 for 50 ms)",
        ),
        latency_monitor_threshold_seconds=_number(
            s, "latency_monitor_threshold_seconds", d.latency_monitor_threshold_seconds, source, "redis",
            low=0, high=60, what="seconds, 0 to leave the server's setting alone",
        ),
        timeout_seconds=_number(
            s, "timeout_seconds", d.timeout_seconds, source, "redis", low=0.1, high=300, what="seconds"
        ),
    )  # fmt: skip


def _response_time(top: Mapping, source: str) -> ResponseTimeConfig:
    d = ResponseTimeConfig()
    s = _section(top, "response_time", source, "response_time", {f for f in d.__dataclass_fields__})
    window = s.get("window", d.window)
    if not isinstance(window, str) or not _DURATION.match(window):
        raise ConfigError(
            f"{_where(s, 'window', source)}: response_time.window must be a range like 5m, 30s or 1h, "
            f"got {window!r}"
        )
    selector = s.get("selector", d.selector) or ""
    if not isinstance(selector, str) or not _LABEL_MATCHERS.match(selector):
        raise ConfigError(
            f"{_where(s, 'selector', source)}: response_time.selector must be PromQL label matchers "
            f'like job=~"api|web", got {selector!r}'
        )
    route_label = s.get("route_label", d.route_label)
    if not isinstance(route_label, str) or not _NAME.match(route_label):
        raise ConfigError(
            f"{_where(s, 'route_label', source)}: response_time.route_label must be a label name"
        )
    num = {
        "median_target_seconds": (1e-3, 3600, "seconds above 0"),
        "step_seconds": (1, 3600, "seconds from 1 to 3600"),
        "worst_windows": (0, 100, "a count from 0 to 100"),
        "timeout_seconds": (0.1, 600, "seconds"),
    }
    values = {
        k: _number(s, k, getattr(d, k), source, "response_time", low=lo, high=hi, what=what)
        for k, (lo, hi, what) in num.items()
    }
    return ResponseTimeConfig(
        median_target_seconds=values["median_target_seconds"],
        window=window,
        step_seconds=int(values["step_seconds"]),
        selector=selector.strip().rstrip(","),
        route_label=route_label,
        worst_windows=int(values["worst_windows"]),
        timeout_seconds=values["timeout_seconds"],
    )


def _ai_latency(top: Mapping, source: str) -> AiLatencyConfig:
    d = AiLatencyConfig()
    s = _section(
        top,
        "ai_latency",
        source,
        "ai_latency",
        {"providers", "prometheus_histogram", "cross_check_tolerance_ratio"},
    )
    raw = s.get("providers")
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(
            f"{_where(s, 'providers', source)}: ai_latency.providers must map each provider to its "
            "latency_target_seconds and objective_ratio"
        )
    providers = {}
    for name, entry in raw.items():
        where = f"ai_latency.providers.{name}"
        if not isinstance(name, str) or not re.match(r"^[a-z0-9][a-z0-9_.-]{0,62}$", name):
            raise ConfigError(f"{_where(raw, name, source)}: provider name {name!r} must be lower-case")
        entry = _section(raw, name, source, where, {"latency_target_seconds", "objective_ratio"})
        for key in ("latency_target_seconds", "objective_ratio"):
            if key not in entry:
                raise ConfigError(f"{_where(raw, name, source)}: {where} needs {key}")
        providers[name] = ProviderTarget(
            latency_target_seconds=_number(
                entry, "latency_target_seconds", 0, source, where, low=1e-3, high=3600, what="seconds above 0"
            ),
            objective_ratio=_number(
                entry, "objective_ratio", 0, source, where, low=1e-6, high=1,
                what="a share above 0 and at most 1 (0.95 for 95 %)",
            ),
        )  # fmt: skip
    histogram = s.get("prometheus_histogram", d.prometheus_histogram) or ""
    if not isinstance(histogram, str) or (histogram and not _NAME.match(histogram)):
        raise ConfigError(
            f"{_where(s, 'prometheus_histogram', source)}: ai_latency.prometheus_histogram must be a "
            f"metric name or empty, got {histogram!r}"
        )
    return AiLatencyConfig(
        providers=MappingProxyType(providers),
        prometheus_histogram=histogram,
        cross_check_tolerance_ratio=_number(
            s, "cross_check_tolerance_ratio", d.cross_check_tolerance_ratio, source, "ai_latency",
            low=0, high=10, what="a ratio (0.25 for 25 %)",
        ),
    )  # fmt: skip
