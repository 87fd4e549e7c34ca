"""Verdicts for a build: each bundle and the app total against budgets and against the baseline.

Pure functions over sizes, so the rules are tested on examples and properties without any server.

- ``over_budget``: a size exceeds the absolute budget of that compression. Absolute budgets hold
  whatever the change: a bundle that stays over budget stays flagged (and its alert keeps firing).
- ``warning``: within budget, but grew more than the growth limit against the baseline (on the
  app's growth compression) and by at least the minimum byte change (below it, nothing is flagged);
  or empty (0 bytes before compression), which a working build step never writes.
- ``new`` / ``removed``: the bundle exists on one side only. Without any baseline build yet, no
  bundle is new: there is nothing to compare with.
- ``ok`` otherwise.

The baseline is the median of the last N builds of the baseline branch: one unusual build does not
move it, and a real change takes over once it is in most of those builds.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from reliability.buildsize.budgets import AppBudget, Limits
from reliability.buildsize.sizes import COMPRESSIONS, ZERO, Sizes, format_delta, format_percent
from reliability.core.formatting import format_bytes

TOTAL = "__total__"
SEVERITY = {"over_budget": 4, "warning": 3, "new": 2, "removed": 1, "ok": 0}
LABEL = {"over_budget": "over budget", "warning": "grew", "new": "new", "removed": "removed", "ok": "ok"}
EMOJI = {"over_budget": "🔴", "warning": "🟡", "new": "🆕", "removed": "➖", "ok": "✅"}
EMPTY_REASON = "0 B before compression; check the build step that writes it, or ignore the file"


@dataclass(frozen=True)
class Baseline:
    branch: str
    build_ids: tuple[str, ...] = ()
    bundles: dict[str, Sizes] | None = None
    total: Sizes | None = None

    @property
    def exists(self) -> bool:
        return bool(self.build_ids)


def median_baseline(branch: str, builds: Sequence[tuple[str, dict[str, Sizes]]]) -> Baseline:
    """The baseline from ``builds`` (newest first): bundles of the newest, each the median of its sizes.

    A bundle is in the baseline when the newest baseline build has it (one that build dropped is gone);
    its size is the median over the builds that contain it, and the total the median of the totals.
    """
    if not builds:
        return Baseline(branch)
    newest = builds[0][1]
    bundles = {}
    for name in newest:
        samples = [sizes[name] for _, sizes in builds if name in sizes]
        bundles[name] = _median(samples)
    totals = [sum(sizes.values(), ZERO) for _, sizes in builds]
    return Baseline(branch, tuple(b for b, _ in builds), bundles, _median(totals))


def _median(samples: Sequence[Sizes]) -> Sizes:
    return Sizes(*(round(statistics.median(s.get(c) for s in samples)) for c in COMPRESSIONS))


@dataclass(frozen=True)
class Row:
    bundle: str
    verdict: str
    files: int
    sizes: Sizes | None  # None: removed
    baseline: Sizes | None  # None: new, or no baseline yet
    limits: Limits
    reasons: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.sizes is not None and self.sizes.raw == 0

    @property
    def label(self) -> str:
        """The status word in the delta tables."""
        return "empty" if self.verdict == "warning" and self.empty else LABEL[self.verdict]

    def delta(self, compression: str) -> int | None:
        if self.sizes is None or self.baseline is None:
            return None
        return self.sizes.get(compression) - self.baseline.get(compression)

    def delta_percent(self, compression: str) -> float | None:
        delta = self.delta(compression)
        if delta is None or self.baseline.get(compression) == 0:
            return None
        return 100.0 * delta / self.baseline.get(compression)

    def as_dict(self, compression: str) -> dict:
        return {
            "bundle": self.bundle,
            "verdict": self.verdict,
            "files": self.files,
            "bytes": self.sizes.get(compression) if self.sizes else None,
            "baseline_bytes": self.baseline.get(compression) if self.baseline else None,
            "delta_bytes": self.delta(compression),
            "budget_bytes": self.limits.budget(compression),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Comparison:
    app: str
    compression: str  # the growth compression, shown in the delta table
    rows: tuple[Row, ...]  # most severe first, then the largest change
    total: Row
    baseline: Baseline

    @property
    def verdict(self) -> str:
        verdicts = {r.verdict for r in (*self.rows, self.total)}
        return next((v for v in ("over_budget", "warning") if v in verdicts), "ok")

    @property
    def flagged(self) -> list[Row]:
        flagged = [r for r in (self.total, *self.rows) if r.verdict in ("over_budget", "warning")]
        return sorted(flagged, key=lambda r: -SEVERITY[r.verdict])

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITY, 0)
        for row in self.rows:
            counts[row.verdict] += 1
        return counts


def judge(
    sizes: Sizes, baseline: Sizes | None, limits: Limits, compression: str
) -> tuple[str, tuple[str, ...]]:
    """``over_budget``, ``warning`` or ``ok`` for one bundle (or total), with the reasons."""
    over = tuple(
        f"{c} {format_bytes(sizes.get(c))} > budget {format_bytes(limits.budget(c))}"
        for c in COMPRESSIONS
        if limits.budget(c) is not None and sizes.get(c) > limits.budget(c)
    )
    if over:
        return "over_budget", over
    if sizes.raw == 0:
        return "warning", (EMPTY_REASON,)
    if baseline is not None:
        before, delta = baseline.get(compression), sizes.get(compression) - baseline.get(compression)
        if (
            delta > 0
            and delta >= limits.min_change_bytes
            and (before == 0 or 100.0 * delta / before > limits.max_growth_percent)
        ):
            percent = format_percent(100.0 * delta / before) if before else "from nothing"
            return "warning", (
                f"{compression} {format_delta(delta)} ({percent}) is over the "
                f"{limits.max_growth_percent:g}% growth limit",
            )
    return "ok", ()


@dataclass(frozen=True)
class Bundle:
    """One bundle of the build: its files measured together."""

    name: str
    files: int
    sizes: Sizes


def compare(budget: AppBudget, bundles: Sequence[Bundle], baseline: Baseline) -> Comparison:
    compression = budget.growth_compression
    previous = baseline.bundles or {}
    rows = []
    for bundle in bundles:
        limits, _ = budget.limits_for(bundle.name)
        before = previous.get(bundle.name)
        verdict, reasons = judge(bundle.sizes, before, limits, compression)
        if verdict == "ok" and before is None and baseline.exists:
            verdict = "new"
        rows.append(Row(bundle.name, verdict, bundle.files, bundle.sizes, before, limits, reasons))
    present = {b.name for b in bundles}
    for name, before in previous.items():
        if name not in present:
            rows.append(Row(name, "removed", 0, None, before, budget.limits_for(name)[0]))
    total_sizes = sum((b.sizes for b in bundles), ZERO)
    verdict, reasons = judge(total_sizes, baseline.total, budget.total, compression)
    total = Row(
        TOTAL, verdict, sum(b.files for b in bundles), total_sizes, baseline.total, budget.total, reasons
    )

    def order(row: Row):
        delta = row.delta(compression)
        size = row.sizes.get(compression) if row.sizes else row.baseline.get(compression)
        return (-SEVERITY[row.verdict], -abs(delta if delta is not None else size), row.bundle)

    return Comparison(budget.app, compression, tuple(sorted(rows, key=order)), total, baseline)


def _shown(comparison: Comparison, max_rows: int) -> tuple[list[Row], str]:
    """Rows worth a reader's attention (every verdict but ok, and ok rows that moved by the minimum
    change), at most ``max_rows``, and a note on those left out."""
    c = comparison.compression
    interesting = [
        r
        for r in comparison.rows
        if r.verdict != "ok" or abs(r.delta(c) or 0) >= max(r.limits.min_change_bytes, 1)
    ]
    quiet = len(comparison.rows) - len(interesting)
    cut = len(interesting) - max_rows
    notes = (
        [f"{cut} more changed bundle(s) not shown (all are in reliability.build_size_bundles)"]
        if cut > 0
        else []
    )
    if quiet:
        notes.append(f"{quiet} more bundle(s) unchanged or below the change threshold")
    return interesting[:max_rows], "; ".join(notes)


def _change(row: Row, compression: str, has_baseline: bool) -> str:
    if row.sizes is None:
        return format_delta(-row.baseline.get(compression))
    if row.baseline is None:
        return "new" if has_baseline else "n/a"
    return f"{format_delta(row.delta(compression))} ({format_percent(row.delta_percent(compression))})"


def _budget(row: Row, compression: str) -> str:
    budget = row.limits.budget(compression) if row.sizes is not None else None
    return format_bytes(budget) if budget is not None else "-"


def markdown_table(comparison: Comparison, max_rows: int = 20) -> str:
    """The delta table as GitHub-flavoured Markdown, like the size comments bots leave on pull requests."""
    c = comparison.compression
    rows, note = _shown(comparison, max_rows)
    lines = [f"| Bundle | Size ({c}) | Change | Budget | Status |", "| :--- | ---: | ---: | ---: | :--- |"]
    for row in [*rows, comparison.total]:
        escaped = row.bundle.replace("|", "\\|")
        name = "**Total**" if row.bundle == TOTAL else f"`{escaped}`"
        size = format_bytes(row.sizes.get(c)) if row.sizes else "-"
        change = _change(row, c, comparison.baseline.exists)
        status = f"{EMOJI[row.verdict]} {row.label}"
        lines.append(f"| {name} | {size} | {change} | {_budget(row, c)} | {status} |")
    if note:
        lines.append(f"\n{note}.")
    return "\n".join(lines)


def mrkdwn_table(comparison: Comparison, max_rows: int = 12, name_width: int = 38) -> str:
    """The delta table for Slack, which renders no Markdown tables: aligned columns in a code block."""
    c = comparison.compression
    rows, note = _shown(comparison, max_rows)

    def cut(name: str) -> str:
        return name if len(name) <= name_width else "…" + name[-(name_width - 1) :]

    lines = [f"{'bundle':<{name_width}}  {c:>10}  {'change':>18}  {'budget':>9}  status"]
    for row in [*rows, comparison.total]:
        name = "TOTAL" if row.bundle == TOTAL else cut(row.bundle)
        size = format_bytes(row.sizes.get(c)) if row.sizes else "-"
        change = _change(row, c, comparison.baseline.exists)
        # Upper case where a reader must look: the code block has no colour.
        status = row.label
        status = status.upper() if row.verdict in ("over_budget", "warning") else status
        lines.append(f"{name:<{name_width}}  {size:>10}  {change:>18}  {_budget(row, c):>9}  {status}")
    text = "```\n" + "\n".join(lines) + "\n```"
    if note:
        text += f"\n_{note}._"
    return text
