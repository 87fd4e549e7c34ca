"""The README's "open the Airflow UI" commands work exactly as written, from a fresh copy of the project.

The lines are read from the README itself and run in one bash shell, without ``.venv/bin`` on ``PATH``
and without ``PYTHONPATH`` (issue 15): the stack comes up, ``airflow standalone`` serves its API on
127.0.0.1 only (as the README says), Ctrl-C stops it and ``stack down`` stops everything.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Ready as a user sees it: the UI answers and every component reports healthy (then Ctrl-C).
HEALTHY = """
import json, sys, urllib.request
health = json.load(urllib.request.urlopen(sys.argv[1], timeout=5))
sys.exit(any(part.get("status") != "healthy" for part in health.values()))
"""


def readme_ui_commands() -> list[str]:
    """The command lines of the README block after "To open the Airflow UI", comments removed."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"To open the Airflow UI.*?```bash\n(.*?)```", text, re.S)
    assert block, "README.md lost its 'open the Airflow UI' block"
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def fresh_copy(destination: Path) -> Path:
    """The project's files (tracked and new, as a clone would have them) with the virtualenv linked."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        source = ROOT / name
        if source.is_file() and not name.startswith(".stack/"):
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    (destination / ".venv").symlink_to((ROOT / ".venv").resolve())
    return destination


def listening_addresses(proc_net: str, port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp{,6}) listening on ``port``."""
    found = set()
    for line in proc_net.splitlines():
        fields = line.split()
        if len(fields) > 3 and ":" in fields[1] and fields[3] == "0A":  # 0A: LISTEN
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.slow
def test_the_readme_ui_commands_work_as_written():
    up, migrate, standalone, down = readme_ui_commands()
    assert up.startswith(".venv/bin/python -m stack up") and "source .stack/env.sh" in up
    assert standalone == ".venv/bin/airflow standalone" and down == ".venv/bin/python -m stack down"

    work = Path(tempfile.mkdtemp(prefix="readme-"))
    work.chmod(0o755)  # PostgreSQL runs as another user when we are root
    project = fresh_copy(work / "project")
    script = f"""
set -eu
{up}
{migrate}
set -m  # the background job gets its own process group, which Ctrl-C (SIGINT) reaches
{standalone} > standalone.log 2>&1 &
pid=$!
echo $pid > standalone.pid
ready=""
for _ in $(seq 400); do
  if .venv/bin/python -c "$HEALTHY" "http://127.0.0.1:$AIRFLOW__API__PORT/api/v2/monitor/health" 2>/dev/null
  then ready=yes; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 1
done
echo "port $AIRFLOW__API__PORT ready=${{ready:-no}}"
cat /proc/net/tcp /proc/net/tcp6 > listening.txt
# Ctrl-C once standalone says it is ready (as a person would, after the banner). Standalone then shuts its
# components down; Airflow's scheduler sometimes takes minutes to reap its LocalExecutor workers, which is
# Airflow's, not the README's: after 90 s the rest is killed as a second Ctrl-C would not do either.
for _ in $(seq 120); do grep -q "Airflow is ready" standalone.log && break; sleep 1; done
kill -INT -- -$pid
( sleep 90; echo "standalone still stopping after 90 s"; kill -KILL -- -$pid ) &
watchdog=$!
SECONDS=0
status=0; wait $pid || status=$?
kill -- -$watchdog 2>/dev/null || true  # its whole group: an orphaned sleep would hold the output pipe open
echo "standalone stopped after ${{SECONDS}}s with status $status"
{down}
"""
    env = {
        "PATH": CLEAN_PATH,
        "HOME": os.environ.get("HOME", str(work)),
        "LANG": "C.UTF-8",
        "PLATFORM_SCALE": "0.02",
        "PYTHONUNBUFFERED": "1",  # standalone.log shows each line as it is printed
        "HEALTHY": HEALTHY,  # the command line stays as written; only the seed is smaller
    }
    try:
        run = subprocess.run(
            ["bash", "-c", script], cwd=project, env=env, capture_output=True, text=True, timeout=1500
        )
        log = (project / "standalone.log").read_text() if (project / "standalone.log").exists() else ""
        report = f"stdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-3000:]}\nstandalone:\n{log[-4000:]}"
        assert run.returncode == 0, report
        assert "No module named" not in run.stdout + run.stderr + log, report
        assert "FileNotFoundError" not in log, report
        port, ready = re.search(r"port (\d+) ready=(\w+)", run.stdout).groups()
        assert ready == "yes", report
        addresses = listening_addresses((project / "listening.txt").read_text(), int(port))
        assert addresses == {"0100007F"}, f"api-server listens on {addresses}, not only 127.0.0.1"
        assert "Shutting down components" in log, report  # Ctrl-C reached standalone
        assert "stopped postgres" in run.stdout, report
    finally:
        pid_file = project / "standalone.pid"
        if pid_file.exists():
            try:
                os.killpg(int(pid_file.read_text()), signal.SIGKILL)
            except (ProcessLookupError, PermissionError, ValueError):
                pass
        subprocess.run(
            [str(project / ".venv/bin/python"), "-m", "stack", "down"],
            cwd=project,
            env=env,
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(work, ignore_errors=True)
