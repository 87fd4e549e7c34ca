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

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Endpoints:
    """Where the stack's services listen; what Airflow's connections point at."""

    airflow_home: Path
    source_db_uri: str  # postgres://user:password@host:port/db (Airflow connection URI form)
    scratch_db_uri: str
    results_db_uri: str
    s3_url: str
    bucket: str
    pushgateway_port: int
    slack_webhook_url: str
    uptimerobot_url: str
    uptimerobot_api_key: str
    api_port: int
    log_path: Path
    # The platform's Redis and the Prometheus scraping its metrics (performance_watchdog); None: not set.
    redis_url: str | None = None  # redis://127.0.0.1:PORT/0
    redis_password: str | None = None
    prometheus_url: str | None = None  # http://127.0.0.1:PORT


def environment(e: Endpoints) -> dict[str, str]:
    """Environment for Airflow and the library on a local stack (connections as AIRFLOW_CONN_*)."""
    slack_base, slack_token = e.slack_webhook_url.split("/services/", 1)
    up_host, up_port = e.uptimerobot_url.rsplit("//", 1)[1].split(":")
    conns = {
        "reliability_source_db": e.source_db_uri,
        "reliability_scratch_db": e.scratch_db_uri,
        "reliability_results_db": e.results_db_uri,
        "reliability_s3": json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": e.s3_url, "region_name": "us-east-1", "bucket": e.bucket},
            }
        ),
        "reliability_pushgateway": json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": e.pushgateway_port, "schema": "http"}
        ),
        "reliability_slack": json.dumps(
            {"conn_type": "slackwebhook", "host": f"{slack_base}/services", "password": slack_token}
        ),
        "uptimerobot": json.dumps(
            {
                "conn_type": "http",
                "host": up_host,
                "port": int(up_port.rstrip("/")),
                "schema": "http",
                "password": e.uptimerobot_api_key,
            }
        ),
    }
    if e.redis_url:
        host, port = e.redis_url.removeprefix("redis://").split("/", 1)[0].split(":")
        conns["reliability_redis"] = json.dumps(
            {"conn_type": "redis", "host": host, "port": int(port), "password": e.redis_password or ""}
        )
    if e.prometheus_url:
        host, port = e.prometheus_url.removeprefix("http://").split(":")
        conns["reliability_prometheus"] = json.dumps(
            {"conn_type": "http", "host": host, "port": int(port), "schema": "http"}
        )
    home = e.airflow_home
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{e.api_port}",
        "AIRFLOW__API__PORT": str(e.api_port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        # `airflow standalone` starts its components as `airflow ...`: this virtualenv's bin folder first.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{e.api_port}/execution/",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT)]),
        "RELIABILITY_LOG_PATH": str(e.log_path),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.update({f"AIRFLOW_CONN_{k.upper()}": v for k, v in conns.items()})
    return env


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
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def migrate_metadata(env: dict[str, str]) -> None:
    result = run_airflow(env, "db", "migrate")
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def dags_test(
    env: dict[str, str],
    dag_id: str,
    conf: dict | None = None,
    logical_date: str | None = None,
    timeout: float = 1800,
) -> DagRunResult:
    args = ["dags", "test", dag_id]
    if logical_date:
        args.append(logical_date)
    if conf is not None:
        args += ["-c", json.dumps(conf)]
    # Deadlines crash dag.test() in Airflow 3.3.2 (see reliability.airflow.defaults.run_deadline).
    result = run_airflow({**env, "RELIABILITY_DEADLINES": "off"}, *args, timeout=timeout)
    return DagRunResult(dag_id, result.returncode, result.stdout + result.stderr)
