"""Start, find and stop the local stack's server processes.

Each server is a subprocess in its own process group with a pid file, so that a stack started by one
command can be stopped by another, and a half-started stack can still be stopped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_for_port(
    port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None, name: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"{name or 'server'} exited with status {proc.returncode} before listening on {port}"
            )
        time.sleep(0.05)
    raise TimeoutError(f"{name or 'server'} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_process(
    name: str, argv: list[str], state_dir: Path, port: int, env: dict | None = None, timeout: float = 30.0
) -> subprocess.Popen:
    """Start ``argv`` in the background, log to ``<state>/<name>.log``, wait for ``port``."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log = open(state_dir / f"{name}.log", "ab")
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
    )
    log.close()
    (state_dir / f"{name}.pid").write_text(str(proc.pid))
    try:
        wait_for_port(port, timeout, proc, name)
    except Exception:
        stop_pid(proc.pid)
        raise
    return proc


def stop_pid(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                pass
            if not pid_alive(pid):
                return
            time.sleep(0.05)


def stop_process(name: str, state_dir: Path) -> bool:
    pid_file = state_dir / f"{name}.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().strip())
    except ValueError:
        pid_file.unlink()
        return False
    stop_pid(pid)
    pid_file.unlink(missing_ok=True)
    return True


def running_pid(name: str, state_dir: Path) -> int | None:
    pid_file = state_dir / f"{name}.pid"
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().strip())
    except ValueError:
        return None
    return pid if pid_alive(pid) else None
