"""AI latency SLA per provider, computed in the platform database from ``assistant_calls``.

One query per period does the work, per provider and model and per provider: no call row leaves the
database, so a month of ten million calls costs one (parallel) scan, not a transfer. Definitions:

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

# percentile_cont without sorting the calls: latencies are whole milliseconds, so one parallel hash
# aggregate counts the calls per (provider, model, latency); the percentiles are then read off the
# cumulative counts exactly as percentile_cont interpolates (position q * (n - 1) among the n successful
# calls, between the values at its floor and the next rank). Only the counts' rows are sorted.
SLA_QUERY = """
WITH targets(provider, target_ms) AS (
    SELECT * FROM unnest(%(providers)s::text[], %(targets_ms)s::double precision[])
),
counts AS (
    SELECT provider, model, latency_ms,
           count(*) FILTER (WHERE status = 'ok') AS ok,
           count(*) FILTER (WHERE status = 'error') AS errors
    FROM assistant_calls
    WHERE called_at >= %(start)s AND called_at < %(end)s
    GROUP BY provider, model, latency_ms
),
grouped AS (
    SELECT provider, model, latency_ms, ok, errors FROM counts
    UNION ALL
    SELECT provider, '*', latency_ms, sum(ok)::bigint, sum(errors)::bigint FROM counts GROUP BY provider, latency_ms
),
ranked AS (
    SELECT provider, model, latency_ms, ok,
           (sum(ok) OVER (PARTITION BY provider, model ORDER BY latency_ms))::bigint - ok AS ok_before,
           (sum(ok) OVER (PARTITION BY provider, model))::bigint AS ok_total
    FROM grouped
),
positions AS (
    SELECT r.provider, r.model, q.i, r.latency_ms, r.ok, r.ok_before,
           floor(q.q * (r.ok_total - 1)) AS lo,
           least(floor(q.q * (r.ok_total - 1)) + 1, r.ok_total - 1) AS hi,
           q.q * (r.ok_total - 1) - floor(q.q * (r.ok_total - 1)) AS frac
    FROM ranked r CROSS JOIN (VALUES (1, 0.5::float8), (2, 0.95::float8), (3, 0.99::float8)) AS q(i, q)
    WHERE r.ok > 0
),
quantiles AS (
    SELECT provider, model, i,
           min(latency_ms) FILTER (WHERE lo >= ok_before AND lo < ok_before + ok) AS low,
           min(latency_ms) FILTER (WHERE hi >= ok_before AND hi < ok_before + ok) AS high,
           max(frac) AS frac
    FROM positions
    GROUP BY provider, model, i
),
totals AS (
    SELECT g.provider, g.model, sum(g.ok + g.errors)::bigint AS calls, sum(g.errors)::bigint AS errors,
           coalesce(sum(g.ok) FILTER (WHERE g.latency_ms <= t.target_ms), 0)::bigint AS within_target
    FROM grouped g LEFT JOIN targets t ON t.provider = g.provider
    GROUP BY g.provider, g.model
)
SELECT t.provider, t.model, t.calls, t.errors, t.within_target, q.quantiles_ms
FROM totals t
LEFT JOIN (
    SELECT provider, model, array_agg(low + (high - low) * frac ORDER BY i) AS quantiles_ms
    FROM quantiles GROUP BY provider, model
) q ON q.provider = t.provider AND q.model = t.model
ORDER BY t.provider, t.model = '*' DESC, t.model
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
    with conn.transaction():
        # The counts of a month fit in memory (a few hundred thousand groups): without spilling them to
        # disk, and without JIT, whose compile time costs more than it saves on this one-off query.
        conn.execute("SET LOCAL work_mem = '64MB'")
        conn.execute("SET LOCAL jit = off")
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
