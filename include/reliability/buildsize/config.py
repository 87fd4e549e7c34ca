"""Loading the budget file (``include/config/build_budgets.yaml``) into a :class:`BudgetConfig`.

Validation is strict because a typo in a budget file silently disables a budget: an unknown key, a
duplicate key, a bad glob, a bad size or a bad name pattern is a
:class:`~reliability.core.config.ConfigError` naming the file and the line. The YAML is read as a node
tree so every value keeps its line.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from reliability.buildsize.budgets import APP_NAME, AppBudget, BudgetConfig, BudgetRule, Limits
from reliability.buildsize.globs import Glob, GlobError, compile_glob
from reliability.buildsize.normalise import DEFAULT_NAME_PATTERNS, compile_patterns
from reliability.buildsize.sizes import COMPRESSIONS, parse_size
from reliability.core.config import CONFIG_DIR, ConfigError, read_text, yaml_error

DEFAULT_CONFIG = CONFIG_DIR / "build_budgets.yaml"

_GROWTH_KEYS = ("max_growth_percent", "min_change_bytes")
_SETTINGS = (
    "baseline_branch",
    "baseline_builds",
    "growth_compression",
    "metrics_top_bundles",
    "build_info_file",
    "name_patterns",
    "ignore",
    *_GROWTH_KEYS,
)
_BUILTIN = {
    "baseline_branch": "main",
    "baseline_builds": 5,
    "growth_compression": "brotli",
    "metrics_top_bundles": 20,
    "build_info_file": "build-info.json",
    "name_patterns": list(DEFAULT_NAME_PATTERNS),
    "ignore": [],
    "max_growth_percent": 10.0,
    "min_change_bytes": 1000,
}


def load_config(path: str | Path = DEFAULT_CONFIG) -> BudgetConfig:
    return parse_config(read_text(path, "budget file"), str(path))


def parse_config(text: str, source: str = "<budgets>") -> BudgetConfig:
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        reader = _Reader(source, loader)
        if root is None:
            raise ConfigError(f"{source}: the budget file is empty; it needs at least 'apps:'")
        top = reader.mapping(root, "the budget file", ("version", "local_build_roots", "defaults", "apps"))
        if "version" in top and reader.value(top["version"][1]) != 1:
            raise reader.fail(top["version"][1], "version must be 1")
        defaults = dict(_BUILTIN)
        if "defaults" in top:
            defaults.update(reader.settings(top["defaults"][1], "defaults", _SETTINGS))
        if "apps" not in top:
            raise reader.fail(root, "the budget file has no 'apps:' section")
        apps_node = top["apps"][1]
        apps = {}
        for name, (key_node, app_node) in reader.mapping(apps_node, "apps", None).items():
            if not APP_NAME.match(name):
                raise reader.fail(
                    key_node,
                    f"app name {name!r} must be lower case letters, digits, '.', '_' "
                    "or '-' (it is an S3 folder and a metric label)",
                )
            apps[name] = reader.app(name, app_node, defaults)
        if not apps:
            raise reader.fail(apps_node, "'apps' is empty: configure at least one app")
        roots = ()
        if "local_build_roots" in top:
            roots = tuple(
                reader.folder(item, "local_build_roots")
                for item in reader.sequence(top["local_build_roots"][1], "local_build_roots")
            )
        return BudgetConfig(source, apps, roots)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source) from None
    finally:
        loader.dispose()


class _Reader:
    def __init__(self, source: str, loader):
        self.source = source
        self.loader = loader

    def fail(self, node, message: str) -> ConfigError:
        return ConfigError(f"{self.source}, line {node.start_mark.line + 1}: {message}")

    def value(self, node) -> Any:
        import yaml

        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, "expected a single value here, not a list or mapping")
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node, where: str, known: tuple[str, ...] | None) -> dict[str, tuple[Any, Any]]:
        import yaml

        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where} must be a mapping of keys to values")
        found: dict[str, tuple[Any, Any]] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, f"key {key!r} in {where} must be a string")
            if key in found:
                raise self.fail(
                    key_node,
                    f"duplicate key {key!r} in {where} (first on line {found[key][0].start_mark.line + 1})",
                )
            if known is not None and key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise self.fail(
                    key_node, f"unknown key {key!r} in {where}; {hint}known keys: {', '.join(known)}"
                )
            found[key] = (key_node, value_node)
        return found

    def sequence(self, node, where: str) -> list[Any]:
        import yaml

        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{where} must be a list")
        return list(node.value)

    def glob(self, node, where: str) -> Glob:
        pattern = self.value(node)
        if not isinstance(pattern, str):
            raise self.fail(node, f"{where} must be a string glob, not {pattern!r}")
        try:
            return compile_glob(pattern)
        except GlobError as exc:
            raise self.fail(
                node, f"bad glob {pattern!r} in {where} (column {exc.column} of the glob): {exc}"
            ) from None

    def size(self, node, where: str) -> int:
        try:
            return parse_size(self.value(node))
        except ValueError as exc:
            raise self.fail(node, f"{where}: {exc}") from None

    def number(self, node, where: str, low: float, high: float, integer: bool = False) -> float:
        value = self.value(node)
        wrong_type = isinstance(value, bool) or not isinstance(value, int if integer else (int, float))
        if wrong_type:
            raise self.fail(node, f"{where} must be {'an integer' if integer else 'a number'}, not {value!r}")
        if not low <= value <= high:
            raise self.fail(node, f"{where} must be between {low:g} and {high:g}, not {value!r}")
        return value

    def string(self, node, where: str) -> str:
        value = self.value(node)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(node, f"{where} must be a non-empty string")
        return value

    def folder(self, node, where: str) -> Path:
        path = self.string(node, f"a folder in {where}")
        if not path.startswith("/") or ".." in Path(path).parts:
            raise self.fail(node, f"{path!r} in {where} must be an absolute path without '..'")
        if Path(path) == Path("/"):
            raise self.fail(node, f"{where} must not hold '/': name the folder CI builds are copied to")
        return Path(path)

    def settings(self, node, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, (_, value) in self.mapping(node, where, allowed).items():
            label = f"{key} in {where}"
            if key == "baseline_branch":
                out[key] = self.string(value, label)
            elif key == "baseline_builds":
                out[key] = int(self.number(value, label, 1, 100, integer=True))
            elif key == "growth_compression":
                choice = self.value(value)
                if choice not in COMPRESSIONS:
                    raise self.fail(
                        value, f"{label} must be one of {', '.join(COMPRESSIONS)}, not {choice!r}"
                    )
                out[key] = choice
            elif key == "metrics_top_bundles":
                out[key] = int(self.number(value, label, 0, 1000, integer=True))
            elif key == "build_info_file":
                name = self.string(value, label)
                if "/" in name:
                    raise self.fail(value, f"{label} must be a file name at the build's root, without '/'")
                out[key] = name
            elif key == "name_patterns":
                patterns = []
                for item in self.sequence(value, label):
                    pattern = self.value(item)
                    if not isinstance(pattern, str):
                        raise self.fail(
                            item, f"name pattern {pattern!r} must be a string (a regular expression)"
                        )
                    try:
                        compile_patterns([pattern])
                    except ValueError as exc:
                        raise self.fail(item, str(exc)) from None
                    patterns.append(pattern)
                out[key] = patterns
            elif key == "ignore":
                out[key] = [self.glob(item, label) for item in self.sequence(value, label)]
            elif key == "max_growth_percent":
                out[key] = float(self.number(value, label, 0, 10_000))
            elif key == "min_change_bytes":
                out[key] = self.size(value, label)
        return out

    def limits(
        self, node, where: str, inherited: dict[str, Any], extra: tuple[str, ...] = ()
    ) -> tuple[Limits, dict]:
        fields = self.mapping(node, where, (*extra, *COMPRESSIONS, *_GROWTH_KEYS))
        growth = dict(inherited)
        growth.update(self.settings(_submapping(node, _GROWTH_KEYS), where, _GROWTH_KEYS))
        budgets = {
            c: self.size(fields[c][1], f"{c} budget in {where}") if c in fields else None
            for c in COMPRESSIONS
        }
        return Limits(
            **budgets,
            max_growth_percent=growth["max_growth_percent"],
            min_change_bytes=growth["min_change_bytes"],
        ), fields

    def app(self, name: str, node, defaults: dict[str, Any]) -> AppBudget:
        where = f"app {name!r}"
        fields = self.mapping(node, where, (*_SETTINGS, "budgets", "total"))
        settings = dict(defaults)
        settings.update(self.settings(_submapping(node, _SETTINGS), where, _SETTINGS))
        growth = {k: settings[k] for k in _GROWTH_KEYS}
        rules = []
        if "budgets" in fields:
            for i, item in enumerate(self.sequence(fields["budgets"][1], f"budgets of {where}"), start=1):
                rule_where = f"budget #{i} of {where}"
                limits, rule_fields = self.limits(item, rule_where, growth, extra=("glob",))
                if "glob" not in rule_fields:
                    raise self.fail(item, f"{rule_where} has no 'glob'")
                if len(rule_fields) == 1:
                    raise self.fail(
                        item, f"{rule_where} sets no limit: give raw, gzip or brotli, or a growth setting"
                    )
                rules.append(
                    BudgetRule(
                        self.glob(rule_fields["glob"][1], f"{rule_where}"), limits, item.start_mark.line + 1
                    )
                )
        total = (
            self.limits(fields["total"][1], f"total of {where}", growth)[0]
            if "total" in fields
            else Limits(None, None, None, **growth)
        )
        return AppBudget(
            app=name,
            baseline_branch=settings["baseline_branch"],
            baseline_builds=settings["baseline_builds"],
            growth_compression=settings["growth_compression"],
            metrics_top_bundles=settings["metrics_top_bundles"],
            build_info_file=settings["build_info_file"],
            name_patterns=compile_patterns(settings["name_patterns"]),
            ignore=tuple(settings["ignore"]),
            rules=tuple(rules),
            total=total,
            default_limits=Limits(None, None, None, **growth),
        )


def _submapping(node, keys: tuple[str, ...]):
    """The part of a mapping node holding only ``keys``, so one validator reads them with their lines."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return node
    return yaml.MappingNode(
        node.tag,
        [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value in keys],
        start_mark=node.start_mark,
        end_mark=node.end_mark,
    )
