"""The AI latency benchmark runs small and prints what it promises: both ways, rows/s, the ratio, agreement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_prints_both_ways_their_ratio_and_that_they_agree(pg_cluster):
    dsn = pg_cluster.create_database("bench_ai_latency", exist_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_ai_latency.py"),
            "--rows",
            "100000",
            "--rounds",
            "1",
            "--dsn",
            dsn,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "in database (one query):" in out and "naive SELECT into Python:" in out
    assert "100,000 rows transferred" in out and "ratio naive / in database:" in out
    assert "figures agree: yes" in out
