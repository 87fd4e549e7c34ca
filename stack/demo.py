"""Run every DAG of the project once, end to end, through Airflow on the local stack; print what each found.

Exits non-zero if any run failed. Expects ``python -m stack up`` to have run.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from datetime import UTC, datetime

from stack.__main__ import PLATFORM_DB, RESULTS_DB, cluster, environment, stack_dir
from stack.airflow import dags_test, migrate_metadata

# Order matters: the checksum and restore jobs read what the backup job wrote.
DAGS = (
    "backup_verify",
    "checksum_validation",
    "restore_test",
    "sla_uptime",
    "build_size_watchdog",
    "performance_watchdog",
)


def run_conf(dag_id: str) -> dict | None:
    """The trigger form's values for a DAG whose default run would do little now (None: the defaults)."""
    if dag_id == "performance_watchdog":
        # Triggered now, an hourly run would measure Redis only: ask for all three sections, today so far
        # and this month to date (stack up seeds assistant calls up to now).
        today = datetime.now(UTC).date()
        return {
            "sections": ["redis", "response_time", "ai_latency"],
            "day": today.isoformat(),
            "month": today.strftime("%Y-%m"),
        }
    return None


def main() -> int:
    state = stack_dir()
    env = {**environment(state), "RELIABILITY_TASK_RETRIES": "0"}
    print("Airflow metadata: migrating the SQLite database …", flush=True)
    migrate_metadata(env)
    results = []
    for dag_id in DAGS:
        started = time.monotonic()
        print(f"\n▶ airflow dags test {dag_id}", flush=True)
        result = dags_test(env, dag_id, run_conf(dag_id))
        results.append(result)
        log_file = state / "logs" / f"demo-{dag_id}.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text(result.output)
        print(
            f"  {'succeeded' if result.succeeded else 'FAILED'} in {time.monotonic() - started:.0f}s "
            f"(Airflow output: {log_file})",
            flush=True,
        )
    print_summary(state)
    failed = [r.dag_id for r in results if not r.succeeded]
    if failed:
        print(f"\nFailed: {', '.join(failed)} — see the logs named above.")
        return 1
    print("\nAll jobs ran.")
    return 0


def print_summary(state) -> None:
    pg = cluster(state)
    print("\n=== What the jobs found (results store: reliability.runs) ===")
    with pg.connect(RESULTS_DB) as conn:
        rows = conn.execute("""SELECT DISTINCT ON (job, summary->'subject') job, status,
                                      summary->>'headline', finished_at
                               FROM reliability.runs ORDER BY job, summary->'subject', finished_at DESC""").fetchall()
    for job, status, headline, _ in rows:
        print(f"  {job:<22} {status:<8} {headline}")
    with pg.connect(RESULTS_DB) as conn:
        from stack.demo_uploads import coverage_lines

        print("\n".join(coverage_lines(conn)))
    env = environment(state)
    conns = {k: v for k, v in env.items() if k.startswith("AIRFLOW_CONN_")}
    gateway = json.loads(conns["AIRFLOW_CONN_RELIABILITY_PUSHGATEWAY"])
    slack = json.loads(conns["AIRFLOW_CONN_RELIABILITY_SLACK"])
    try:
        metrics = (
            urllib.request.urlopen(f"http://127.0.0.1:{gateway['port']}/metrics", timeout=5).read().decode()
        )
        groups = {
            line.split('job="')[1].split('"')[0]
            for line in metrics.splitlines()
            if line.startswith("reliability_job_success{")
        }
        print(
            f"\nPushgateway http://127.0.0.1:{gateway['port']}/metrics — job groups: {', '.join(sorted(groups))}"
        )
    except OSError as exc:
        print(f"\nPushgateway unreachable: {exc}")
    base = slack["host"].rsplit("/services", 1)[0]
    try:
        messages = json.loads(urllib.request.urlopen(f"{base}/_messages", timeout=5).read())
        print(
            f"Slack (local receiver) accepted {len(messages)} message(s); latest: "
            f"{messages[-1]['text'][:120] if messages else '-'}"
        )
    except OSError as exc:
        print(f"Slack receiver unreachable: {exc}")
    print(f"Monitor log: {env['RELIABILITY_LOG_PATH']}")
    print(
        f"Results store: {pg.dsn(RESULTS_DB).split('@')[1]} (schema reliability); platform DB: {PLATFORM_DB}"
    )


if __name__ == "__main__":
    sys.exit(main())
