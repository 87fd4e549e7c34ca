"""The local stack command: start twice, status, stop, stop again when half-started."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

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
    assert second.stdout.count("(already running)") == 4
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
    ):
        assert f"export AIRFLOW_CONN_{conn}=" in env_file
    assert "AIRFLOW__CORE__LOAD_EXAMPLES=False" in env_file
    assert oct((state_dir / "env.sh").stat().st_mode & 0o777) == "0o600", "it holds passwords"
    assert stack(state_dir, "down").returncode == 0
    assert stack(state_dir, "status").returncode == 1
    assert stack(state_dir, "down").returncode == 0


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
