"""Benchmark of the AI latency SLA: a month of ``assistant_calls`` computed in the database vs in Python.

1. In the database (the job's way, ``reliability.performance.ai_latency.compute``): one query counts the
   calls per provider, model and latency (a parallel hash aggregate) and reads percentile_cont's figures
   off the cumulative counts; only the ~dozen result rows leave PostgreSQL.
2. Baseline, the naive way: ``SELECT`` every call of the month into Python (streamed in batches, so it
   is not also a memory test), then count and take the same percentiles there.

Both must agree (counts exactly, percentiles to the millisecond). Prints time and rows/s of each and the
ratio baseline / in-database, from the same run on the same data (best of ``--rounds``).

Run: ``python bench/bench_ai_latency.py [--rows 10000000] [--rounds 2] [--dsn postgresql://...]``;
without ``--dsn`` a throw-away PostgreSQL cluster is created.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from reliability.performance.ai_latency import ALL_MODELS, compute  # noqa: E402
from reliability.performance.config import load_config  # noqa: E402
from reliability.performance.schedule import month_period  # noqa: E402

MONTH = month_period(2026, 11, datetime(2026, 12, 1, tzinfo=UTC))
PROVIDERS = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o"),
    ("anthropic", "claude-haiku"),
    ("anthropic", "claude-sonnet"),
    ("mistral", "mistral-small"),
    ("cohere", "command-r"),  # no target in performance.yaml: reported as such
]


def seed(dsn: str, rows: int) -> None:
    """``rows`` calls spread over November 2026 (3 % errors, log-normal-ish latencies), generated in SQL."""
    import psycopg

    from stack.platform import SCHEMA

    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('public.assistant_calls')").fetchone()[0] is None:
            conn.execute(SCHEMA.read_text())
        conn.execute("TRUNCATE assistant_calls, tenants CASCADE")
        conn.execute("INSERT INTO tenants (id, slug, name, plan) VALUES (1, 'tenant-001', 'Tenant 1', 'pro')")
        values = ", ".join(f"({i}, '{p}', '{m}')" for i, (p, m) in enumerate(PROVIDERS))
        conn.execute("SELECT setseed(0.7)")
        conn.execute(
            f"""INSERT INTO assistant_calls (tenant_id, provider, model, prompt_tokens, completion_tokens,
                                             latency_ms, status, called_at)
                SELECT 1, p.provider, p.model, 100, 100,
                       (300 + exp(random() * 3) * 400 * (1 + p.i % 3))::int,
                       CASE WHEN random() < 0.03 THEN 'error' ELSE 'ok' END,
                       timestamptz '2026-11-01 00:00+00' + (g::double precision / {rows}) * interval '30 days'
                FROM generate_series(0, {rows} - 1) g
                JOIN (VALUES {values}) AS p(i, provider, model) ON p.i = g % {len(PROVIDERS)}"""
        )
        conn.execute("VACUUM ANALYZE assistant_calls")


def percentile_cont(sorted_values: list[int], q: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks."""
    position = q * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def naive(dsn: str, targets_ms: dict[str, float]) -> tuple[dict, int]:
    """Every call of the month into Python, then the same figures there. Returns (figures, rows read)."""
    import psycopg

    calls: dict[tuple[str, str], int] = defaultdict(int)
    errors: dict[tuple[str, str], int] = defaultdict(int)
    within: dict[tuple[str, str], int] = defaultdict(int)
    latencies: dict[tuple[str, str], list[int]] = defaultdict(list)
    read = 0
    with psycopg.connect(dsn) as conn, conn.cursor(name="all_calls") as cur:
        cur.itersize = 50_000
        cur.execute(
            "SELECT provider, model, status, latency_ms FROM assistant_calls "
            "WHERE called_at >= %s AND called_at < %s",
            (MONTH.start, MONTH.end),
        )
        for provider, model, status, latency in cur:
            read += 1
            target = targets_ms.get(provider)
            for key in ((provider, model), (provider, ALL_MODELS)):
                calls[key] += 1
                if status == "error":
                    errors[key] += 1
                else:
                    latencies[key].append(latency)
                    if target is not None and latency <= target:
                        within[key] += 1
    figures = {}
    for key, n in calls.items():
        values = sorted(latencies[key])
        quantiles = tuple(percentile_cont(values, q) / 1000 for q in (0.5, 0.95, 0.99)) if values else None
        figures[key] = (n, errors[key], within[key] if key[0] in targets_ms else None, quantiles)
    return figures, read


def in_database(dsn: str, config) -> dict:
    import psycopg

    with psycopg.connect(dsn) as conn:
        slas = compute(conn, config.ai_latency, MONTH)
    figures = {}
    for sla in slas:
        for f in ((sla.total,) if sla.total else ()) + sla.models:
            quantiles = (f.p50_seconds, f.p95_seconds, f.p99_seconds) if f.p50_seconds is not None else None
            figures[(f.provider, f.model)] = (f.calls, f.errors, f.within_target, quantiles)
    return figures


def agree(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for key in a:
        (ca, ea, wa, qa), (cb, eb, wb, qb) = a[key], b[key]
        if (ca, ea, wa) != (cb, eb, wb) or (qa is None) != (qb is None):
            return False
        if qa and any(abs(x - y) > 0.001 for x, y in zip(qa, qb, strict=True)):
            return False
    return True


def best_of(rounds: int, fn):
    best, result = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="assistant_calls rows (default 10M)")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs of each (default 2)")
    parser.add_argument("--dsn", help="an existing database to fill (its assistant_calls are replaced)")
    args = parser.parse_args()

    config = load_config()
    targets_ms = {p: t.latency_target_seconds * 1000 for p, t in config.ai_latency.providers.items()}
    root = cluster = None
    dsn = args.dsn
    if not dsn:
        from stack.postgres import PgCluster

        root = Path(tempfile.mkdtemp(prefix="bench-ai-latency-"))
        root.chmod(0o755)
        cluster = PgCluster.create(root / "postgres")
        cluster.start()
        dsn = cluster.create_database("platform")
    try:
        started = time.perf_counter()
        seed(dsn, args.rows)
        print(
            f"seeded {args.rows:,} assistant_calls for {MONTH.key} in {time.perf_counter() - started:.1f} s"
        )
        db_seconds, db_figures = best_of(args.rounds, lambda: in_database(dsn, config))
        naive_seconds, (naive_figures, read) = best_of(args.rounds, lambda: naive(dsn, targets_ms))
        same = agree(db_figures, naive_figures)
        print(f"in database (one query):      {db_seconds:8.2f} s  {args.rows / db_seconds:14,.0f} rows/s  "
              f"{len(db_figures)} result rows")  # fmt: skip
        print(f"naive SELECT into Python:      {naive_seconds:8.2f} s  {read / naive_seconds:14,.0f} rows/s  "
              f"{read:,} rows transferred")  # fmt: skip
        print(f"ratio naive / in database: {naive_seconds / db_seconds:.2f}x")
        print(f"figures agree: {'yes' if same else 'NO'}")
        if not same:
            sys.exit(1)
    finally:
        if cluster is not None:
            cluster.destroy()
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
