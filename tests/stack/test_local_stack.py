"""The local stack command: start twice, status, stop, stop again when half-started."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from stack.processes import port_open

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def state_dir():
    path = Path(tempfile.mkdtemp(prefix="reliability-stack-"))
    path.chmod(0o755)
    yield path
    stack(path, "down")
    shutil.rmtree(path, ignore_errors=True)


def stack(state: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STACK_DIR": str(state), "PYTHONPATH": f"{ROOT / 'include'}:{ROOT}"}
    return subprocess.run(
        [sys.executable, "-m", "stack", *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_up_twice_status_down_and_down_again(state_dir):
    first = stack(state_dir, "up", "--scale", "0.02")
    assert first.returncode == 0, first.stderr
    second = stack(state_dir, "up", "--scale", "0.02")
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("(already running)") == 7
    assert stack(state_dir, "status").returncode == 0
    env_file = (state_dir / "env.sh").read_text()
    for conn in (
        "RELIABILITY_SOURCE_DB",
        "RELIABILITY_SCRATCH_DB",
        "RELIABILITY_RESULTS_DB",
        "RELIABILITY_S3",
        "RELIABILITY_PUSHGATEWAY",
        "RELIABILITY_SLACK",
        "UPTIMEROBOT",
        "RELIABILITY_REDIS",
        "RELIABILITY_PROMETHEUS",
    ):
        assert f"export AIRFLOW_CONN_{conn}=" in env_file
    assert "AIRFLOW__CORE__LOAD_EXAMPLES=False" in env_file
    assert oct((state_dir / "env.sh").stat().st_mode & 0o777) == "0o600", "it holds passwords"
    ports = json.loads((state_dir / "stack.json").read_text())
    new_services = ("platform-redis", "platform-metrics", "platform-prometheus")
    assert all(port_open(ports[name]) for name in new_services)
    assert stack(state_dir, "down").returncode == 0
    assert not any(port_open(ports[name]) for name in new_services)
    assert stack(state_dir, "status").returncode == 1
    assert stack(state_dir, "down").returncode == 0


def test_performance_watchdog_services_and_connections(state_dir):
    """Redis wants the password of reliability_redis; Prometheus scrapes the platform-metrics exporter;
    the platform database has assistant calls of every provider today."""
    import psycopg
    import redis

    up = stack(state_dir, "up", "--scale", "0.02")
    assert up.returncode == 0, up.stderr
    env = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in stack(state_dir, "env").stdout.splitlines()
        if line.startswith("export ")
    )
    conn = json.loads(env["AIRFLOW_CONN_RELIABILITY_REDIS"])
    assert conn["conn_type"] == "redis" and conn["password"]
    assert conn["password"] not in up.stdout + up.stderr
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=conn["host"], port=conn["port"], socket_timeout=5).ping()
    assert redis.Redis(host=conn["host"], port=conn["port"], password=conn["password"]).ping()
    prom = json.loads(env["AIRFLOW_CONN_RELIABILITY_PROMETHEUS"])
    query = urllib.parse.urlencode({"query": "sum(assistant_call_duration_seconds_count)"})
    url = f"http://{prom['host']}:{prom['port']}/api/v1/query?{query}"
    deadline = time.monotonic() + 60
    while True:  # the first scrape comes within the scrape interval (1 s)
        result = json.loads(urllib.request.urlopen(url, timeout=5).read())["data"]["result"]
        if result or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert result and float(result[0]["value"][1]) > 0, result
    dsn = env["AIRFLOW_CONN_RELIABILITY_SOURCE_DB"].replace("postgres://", "postgresql://", 1)
    with psycopg.connect(dsn) as db:
        today = dict(
            db.execute(
                """SELECT provider, count(*) FROM assistant_calls
                   WHERE called_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                   GROUP BY provider"""
            ).fetchall()
        )
        assert set(today) == {"openai", "anthropic", "mistral"}, today
        total = db.execute("SELECT count(*) FROM assistant_calls").fetchone()[0]
    again = stack(state_dir, "up", "--scale", "0.02")
    assert again.returncode == 0, again.stderr
    with psycopg.connect(dsn) as db:
        # The second up continues after the newest call: at most one more round of three calls.
        assert db.execute("SELECT count(*) FROM assistant_calls").fetchone()[0] - total <= 3


def test_half_started_stack_is_stopped_and_restarted(state_dir):
    assert stack(state_dir, "up", "--scale", "0.02").returncode == 0
    pid = int((state_dir / "pushgateway.pid").read_text())
    os.kill(pid, 9)
    status = stack(state_dir, "status")
    assert status.returncode == 1 and "pushgateway" in status.stdout and "down" in status.stdout
    again = stack(state_dir, "up", "--scale", "0.02")
    assert again.returncode == 0, again.stderr
    assert stack(state_dir, "status").returncode == 0
    ports = json.loads((state_dir / "stack.json").read_text())
    assert f"127.0.0.1:{ports['pushgateway']}" in again.stdout
