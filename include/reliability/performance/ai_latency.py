"""AI latency SLA per provider, computed in the platform database from ``assistant_calls``.

One query per period does the work (``percentile_cont`` per provider and model and per provider, with
``GROUPING SETS``): no call row leaves the database, so a month of ten million calls costs one scan and
a sort, not a transfer. Definitions:

- *calls*: every call in the period; *error ratio*: calls with status ``error`` / calls.
- *p50/p95/p99*: latency of the successful calls (a failed call's latency is a timeout or a refusal,
  not the provider's speed).
- *within target*: successful calls that finished within the provider's latency target, over **all**
  calls: a failed call is not an answer within target. The provider meets its SLA when this share is at
  least its objective.
- A configured provider with no calls is **no data** (no share, neither 0 % nor 100 %); a provider in
  the data without a target is **no target**, its figures reported without a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from reliability.performance.config import AiLatencyConfig, ProviderTarget
from reliability.performance.schedule import Period

ALL_MODELS = "*"

SLA_QUERY = """
WITH targets(provider, target_ms) AS (
    SELECT * FROM unnest(%(providers)s::text[], %(targets_ms)s::double precision[])
)
SELECT c.provider,
       CASE WHEN grouping(c.model) = 1 THEN '*' ELSE c.model END AS model,
       count(*) AS calls,
       count(*) FILTER (WHERE c.status = 'error') AS errors,
       count(*) FILTER (WHERE c.status = 'ok' AND c.latency_ms <= t.target_ms) AS within_target,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY c.latency_ms)
           FILTER (WHERE c.status = 'ok') AS quantiles_ms
FROM assistant_calls c
LEFT JOIN targets t ON t.provider = c.provider
WHERE c.called_at >= %(start)s AND c.called_at < %(end)s
GROUP BY GROUPING SETS ((c.provider, c.model), (c.provider))
ORDER BY c.provider, grouping(c.model) DESC, c.model
"""


@dataclass(frozen=True)
class LatencyFigures:
    provider: str
    model: str  # ALL_MODELS for the provider's total
    calls: int
    errors: int
    within_target: int | None  # None: the provider has no target
    p50_seconds: float | None
    p95_seconds: float | None
    p99_seconds: float | None

    @property
    def error_ratio(self) -> float | None:
        return self.errors / self.calls if self.calls else None

    @property
    def within_target_ratio(self) -> float | None:
        return self.within_target / self.calls if self.calls and self.within_target is not None else None


@dataclass(frozen=True)
class ProviderSla:
    provider: str
    period: Period
    target: ProviderTarget | None
    total: LatencyFigures | None  # None: no calls in the period
    models: tuple[LatencyFigures, ...] = ()
    cross_check: dict | None = None  # {"prometheus_p50_seconds", "difference_ratio", "differs"} or {"error"}

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "no_target"
        if self.total is None or not self.total.calls:
            return "no_data"
        ratio = self.total.within_target_ratio
        return "ok" if ratio is not None and ratio >= self.target.objective_ratio else "below_target"


def compute(conn, config: AiLatencyConfig, period: Period) -> list[ProviderSla]:
    """Every configured provider, and every provider found in the data, for ``period``."""
    names = sorted(config.providers)
    params = {
        "providers": names,
        "targets_ms": [config.providers[n].latency_target_seconds * 1000 for n in names],
        "start": period.start,
        "end": period.end,
    }
    rows = conn.execute(SLA_QUERY, params).fetchall()
    return evaluate(rows, config, period)


def evaluate(rows, config: AiLatencyConfig, period: Period) -> list[ProviderSla]:
    """The per-provider verdicts from the query's rows (pure: tested on examples without a database)."""
    figures: dict[str, list[LatencyFigures]] = {}
    for provider, model, calls, errors, within, quantiles in rows:
        q = [None if v is None else v / 1000 for v in (quantiles or (None, None, None))]
        figures.setdefault(provider, []).append(
            LatencyFigures(
                provider=provider,
                model=model,
                calls=int(calls),
                errors=int(errors),
                within_target=int(within) if provider in config.providers else None,
                p50_seconds=q[0],
                p95_seconds=q[1],
                p99_seconds=q[2],
            )
        )
    result = []
    for provider in sorted(set(config.providers) | set(figures)):
        found = figures.get(provider, [])
        total = next((f for f in found if f.model == ALL_MODELS), None)
        result.append(
            ProviderSla(
                provider=provider,
                period=period,
                target=config.providers.get(provider),
                total=total,
                models=tuple(f for f in found if f.model != ALL_MODELS),
            )
        )
    return result


def cross_check_query(histogram: str, period: Period) -> str:
    seconds = max(1, int(period.seconds))
    return f"histogram_quantile(0.5, sum by (provider, le) (increase({histogram}_bucket[{seconds}s])))"


def cross_checked(slas: list[ProviderSla], medians: dict[str, float], tolerance: float) -> list[ProviderSla]:
    """Each provider's database p50 beside Prometheus's, where Prometheus has one."""
    from dataclasses import replace

    checked = []
    for sla in slas:
        prom = medians.get(sla.provider)
        db = sla.total.p50_seconds if sla.total else None
        if prom is None or db is None:
            checked.append(sla)
            continue
        difference = abs(prom - db) / db if db else float("inf")
        check = {
            "prometheus_p50_seconds": prom,
            "difference_ratio": difference,
            "differs": difference > tolerance,
        }
        checked.append(replace(sla, cross_check=check))
    return checked
