"""Run Airflow's own CLI against the local stack: migrate the SQLite metadata DB, test-run DAGs.

``airflow dags test`` runs one real DAG run (scheduler logic, task runner, XCom, Params validation)
in-process against the metadata DB; it exits non-zero when the run fails.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DagRunResult:
    dag_id: str
    returncode: int
    output: str

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0


def run_airflow(env: dict[str, str], *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    Path(full_env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-m", "airflow", *args], env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def migrate_metadata(env: dict[str, str]) -> None:
    result = run_airflow(env, "db", "migrate")
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def dags_test(env: dict[str, str], dag_id: str, conf: dict | None = None,
              logical_date: str | None = None, timeout: float = 1800) -> DagRunResult:
    args = ["dags", "test", dag_id]
    if logical_date:
        args.append(logical_date)
    if conf is not None:
        args += ["-c", json.dumps(conf)]
    result = run_airflow(env, *args, timeout=timeout)
    return DagRunResult(dag_id, result.returncode, result.stdout + result.stderr)
