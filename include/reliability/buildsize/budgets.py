"""The budgets of each app, as loaded by :func:`reliability.buildsize.config.load_config`.

Per app: ``budgets`` is an ordered list of rules (the first rule whose glob matches a bundle gives its
limits), ``total`` limits the whole app, and the settings of :mod:`reliability.buildsize.config` may be set under ``defaults`` and
overridden per app (a list given for an app replaces the default list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reliability.buildsize.globs import Glob
from reliability.buildsize.normalise import normalise
from reliability.buildsize.sizes import COMPRESSIONS

APP_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class Limits:
    """Absolute budgets per compression (None: no budget) and the growth rule against the baseline."""

    raw: int | None
    gzip: int | None
    brotli: int | None
    max_growth_percent: float
    min_change_bytes: int

    def budget(self, compression: str) -> int | None:
        return getattr(self, compression)

    @property
    def budgets(self) -> dict[str, int]:
        return {c: self.budget(c) for c in COMPRESSIONS if self.budget(c) is not None}


@dataclass(frozen=True)
class BudgetRule:
    glob: Glob
    limits: Limits
    line: int


@dataclass(frozen=True)
class AppBudget:
    app: str
    baseline_branch: str
    baseline_builds: int
    growth_compression: str
    metrics_top_bundles: int
    build_info_file: str
    name_patterns: tuple[re.Pattern[str], ...]
    ignore: tuple[Glob, ...]
    rules: tuple[BudgetRule, ...]
    total: Limits
    default_limits: Limits  # for bundles no rule matches: growth rule only, no absolute budget

    def limits_for(self, bundle: str) -> tuple[Limits, BudgetRule | None]:
        for rule in self.rules:
            if rule.glob.matches(bundle):
                return rule.limits, rule
        return self.default_limits, None

    def bundle_name(self, path: str) -> str:
        return normalise(path, self.name_patterns)

    def ignores(self, bundle: str) -> bool:
        return any(g.matches(bundle) for g in self.ignore)


@dataclass(frozen=True)
class BudgetConfig:
    source: str
    apps: dict[str, AppBudget]
    # Folders on the worker under which the trigger form may name a build folder; none: S3 builds only.
    local_build_roots: tuple[Path, ...] = ()

    def app(self, name: str) -> AppBudget:
        try:
            return self.apps[name]
        except KeyError:
            raise ValueError(
                f"app {name!r} is not configured in {self.source} "
                f"(configured: {', '.join(sorted(self.apps)) or 'none'})"
            ) from None
