"""Airflow's own components on the local stack: api-server, scheduler, dag-processor, triggerer, Celery workers.

Each component runs as its own background process (log and pid file in the state folder, as the other
stack servers), and each start function returns only once the component really serves:

- api-server: its port answers and ``/api/v2/monitor/health`` reports the metadata database healthy;
- scheduler: its health-check server (``[scheduler] enable_health_check``, the probe the official
  docker-compose file uses) answers ``200``;
- dag-processor and triggerer: they have no port, so the api-server's ``/api/v2/monitor/health`` must show
  a heartbeat of a job that started after we launched the process (the same ``job`` rows that
  ``airflow jobs check`` reads, without paying an Airflow import per probe);
- Celery worker: the worker answers a Celery ``ping`` through the broker (``celery inspect ping``);
- Redis: its port answers.

No component serves task logs over HTTP here (``--skip-serve-logs``): every process of the local stack
writes the same log folder, which the api-server reads directly, and fixed log-server ports would collide
between two stacks on one machine.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stack.processes import free_port, pid_alive, port_open, start_process, stop_pid, stop_process

HEALTH_KEYS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}
WORKER_HOSTNAME_VARIABLE = "RELIABILITY_WORKER_HOSTNAME"
REDIS_BINARY = "/usr/bin/redis-server"


def airflow_settings(
    metadata_url: str, *, executor: str = "LocalExecutor", parallelism: int = 4, jwt_secret: str | None = None
) -> dict[str, str]:
    """Settings every component of one Airflow deployment must share, sized for a small machine.

    ``metadata_url`` is a SQLAlchemy URL (``postgresql+psycopg://...``): several processes write the
    metadata database at once, which SQLite cannot serve well.
    """
    secret = jwt_secret or secrets.token_urlsafe(32)
    return {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        # Tokens the api-server signs must verify in every other component.
        "AIRFLOW__API_AUTH__JWT_SECRET": secret,
        "AIRFLOW__API__SECRET_KEY": secret,
        "AIRFLOW__API__WORKERS": "1",
        # New files are seen within seconds rather than minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }


def celery_settings(broker_url: str, result_backend: str, concurrency: int = 2) -> dict[str, str]:
    """The CeleryExecutor with a Redis broker and results in the metadata database (``db+postgresql://``)."""
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency),
    }


def airflow_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "airflow", *args]


def _full_env(env: dict[str, str]) -> dict[str, str]:
    full = {**os.environ, **env}
    Path(full["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    return full


def _spawn(name: str, argv: list[str], state_dir: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start a server in the background with the same log and pid files as ``start_process``; do not wait."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / f"{name}.log", "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    (state_dir / f"{name}.pid").write_text(str(proc.pid))
    return proc


def _log_tail(state_dir: Path, name: str, chars: int = 2500) -> str:
    path = state_dir / f"{name}.log"
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


@dataclass
class Component:
    """A launched process and the probe that tells when it really serves."""

    name: str
    proc: subprocess.Popen
    state_dir: Path
    ready: Callable[[], bool]

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with status {self.proc.returncode} while starting:\n"
                    f"{_log_tail(self.state_dir, self.name)}"
                )
            try:
                if self.ready():
                    return
            except (OSError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name} was not ready within {timeout:.0f}s; see "
                    f"{self.state_dir / (self.name + '.log')}:\n{_log_tail(self.state_dir, self.name)}"
                )
            time.sleep(0.3)


def api_url(env: dict[str, str]) -> str:
    return env["AIRFLOW__API__BASE_URL"].rstrip("/")


def write_password(env: dict[str, str], username: str = "admin", password: str | None = None) -> str:
    """Fix the SimpleAuthManager user's password before the api-server starts (it generates missing ones)."""
    password = password or secrets.token_urlsafe(16)
    path = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({username: password}) + "\n")
    path.chmod(0o600)
    return password


def health(base_url: str, timeout: float = 5.0) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=timeout) as response:
        return json.loads(response.read())


def _heartbeat_since(base_url: str, component: str, since: datetime) -> bool:
    """The api-server reports ``component`` healthy, from a job that started at or after ``since``."""
    key = HEALTH_KEYS[component]
    status = health(base_url).get(key) or {}
    beat = status.get(f"latest_{key}_heartbeat")
    return status.get("status") == "healthy" and bool(beat) and datetime.fromisoformat(beat) >= since


def _started_at() -> datetime:
    # A second early: heartbeats are stored by the database, whose clock rounding we do not control.
    return datetime.fromtimestamp(time.time() - 1, UTC)


def launch_api_server(env: dict[str, str], state_dir: Path) -> Component:
    """The api-server (UI, REST API, Execution API) on ``[api] port``."""
    port = int(env["AIRFLOW__API__PORT"])
    proc = _spawn(
        "api-server",
        airflow_argv("api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        state_dir,
        _full_env(env),
    )
    base = api_url(env)
    return Component(
        "api-server",
        proc,
        state_dir,
        lambda: port_open(port) and health(base)["metadatabase"]["status"] == "healthy",
    )


def launch_scheduler(env: dict[str, str], state_dir: Path) -> Component:
    """The scheduler (with its executor); ready when its health-check server answers 200."""
    port = free_port()
    full = {
        **_full_env(env),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(port),
    }
    proc = _spawn("scheduler", airflow_argv("scheduler", "--skip-serve-logs"), state_dir, full)

    def ready() -> bool:
        if not port_open(port):
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                return response.status == 200
        except urllib.error.HTTPError:
            return False

    return Component("scheduler", proc, state_dir, ready)


def launch_dag_processor(env: dict[str, str], state_dir: Path) -> Component:
    since = _started_at()
    proc = _spawn("dag-processor", airflow_argv("dag-processor"), state_dir, _full_env(env))
    return Component(
        "dag-processor", proc, state_dir, lambda: _heartbeat_since(api_url(env), "dag-processor", since)
    )


def launch_triggerer(env: dict[str, str], state_dir: Path) -> Component:
    """The triggerer: deferred tasks and the async callbacks of Deadline Alerts run here."""
    since = _started_at()
    proc = _spawn("triggerer", airflow_argv("triggerer", "--skip-serve-logs"), state_dir, _full_env(env))
    return Component("triggerer", proc, state_dir, lambda: _heartbeat_since(api_url(env), "triggerer", since))


def launch_celery_worker(
    env: dict[str, str],
    state_dir: Path,
    name: str,
    queues: tuple[str, ...] = ("default",),
    concurrency: int = 2,
) -> Component:
    """``airflow celery worker --celery-hostname NAME``; ready when it answers a ping as ``celery@NAME``.

    Its task instances report NAME as their host name (see :func:`worker_hostname`).
    """
    full = {
        **_full_env(env),
        WORKER_HOSTNAME_VARIABLE: name,
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "stack.airflow_services.worker_hostname",
    }
    process = f"celery-worker-{name}"
    proc = _spawn(
        process,
        airflow_argv(
            "celery",
            "worker",
            "--celery-hostname",
            name,
            "--concurrency",
            str(concurrency),
            "--queues",
            ",".join(queues),
            "--skip-serve-logs",
        ),
        state_dir,
        full,
    )
    broker = env["AIRFLOW__CELERY__BROKER_URL"]
    return Component(process, proc, state_dir, lambda: celery_ping(broker, f"celery@{name}"))


def _start(components: list[Component], state_dir: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    try:
        for component in components:
            component.wait(max(1.0, deadline - time.monotonic()))
    except Exception:
        for component in components:
            stop_process(component.name, state_dir)
        raise


def start_api_server(env: dict[str, str], state_dir: Path, timeout: float = 120.0) -> str:
    """Start the api-server and return its base URL once it serves."""
    _start([launch_api_server(env, state_dir)], state_dir, timeout)
    return api_url(env)


def start_scheduler(env: dict[str, str], state_dir: Path, timeout: float = 120.0) -> subprocess.Popen:
    component = launch_scheduler(env, state_dir)
    _start([component], state_dir, timeout)
    return component.proc


def start_dag_processor(env: dict[str, str], state_dir: Path, timeout: float = 120.0) -> subprocess.Popen:
    """Start the dag-processor; needs the api-server running (its heartbeat is read there)."""
    component = launch_dag_processor(env, state_dir)
    _start([component], state_dir, timeout)
    return component.proc


def start_triggerer(env: dict[str, str], state_dir: Path, timeout: float = 120.0) -> subprocess.Popen:
    """Start the triggerer; needs the api-server running (its heartbeat is read there)."""
    component = launch_triggerer(env, state_dir)
    _start([component], state_dir, timeout)
    return component.proc


def start_celery_worker(
    env: dict[str, str],
    state_dir: Path,
    name: str,
    queues: tuple[str, ...] = ("default",),
    concurrency: int = 2,
    timeout: float = 120.0,
) -> subprocess.Popen:
    """``airflow celery worker --concurrency N --celery-hostname NAME``, ready when it answers a ping."""
    component = launch_celery_worker(env, state_dir, name, queues, concurrency)
    _start([component], state_dir, timeout)
    return component.proc


def start_airflow(
    env: dict[str, str],
    state_dir: Path,
    *,
    celery_workers: tuple[str, ...] = (),
    worker_concurrency: int = 2,
    timeout: float = 180.0,
) -> str:
    """Every component (and the named Celery workers), launched together so their slow imports overlap,
    then each waited for; returns the api-server's base URL. If one fails to start, all are stopped."""
    components = [
        launch_api_server(env, state_dir),
        launch_scheduler(env, state_dir),
        launch_dag_processor(env, state_dir),
        launch_triggerer(env, state_dir),
    ]
    components += [
        launch_celery_worker(env, state_dir, name, concurrency=worker_concurrency) for name in celery_workers
    ]
    _start(components, state_dir, timeout)
    return api_url(env)


def stop_airflow(state_dir: Path, api: AirflowApi | None = None) -> list[str]:
    """Stop every Airflow component and Celery worker started in ``state_dir``; returns what was stopped.

    A task process runs in its own process group, so stopping its executor can leave it running. Given the
    deployment's ``api``, the executors (scheduler, workers) are stopped first, so no task starts any more;
    the tasks still running are then listed and, once the other components are down, stopped too.
    Components are stopped in parallel: each may take seconds to finish its work or be killed.
    """

    def stop_all(names: list[str]) -> list[str]:
        with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
            stopped = list(pool.map(lambda name: stop_process(name, state_dir), names))
        return [name for name, was_running in zip(names, stopped) if was_running]

    workers = sorted(p.name.removesuffix(".pid") for p in state_dir.glob("celery-worker-*.pid"))
    stopped = stop_all([*workers, "scheduler"])
    task_pids: list[int] = []
    if api is not None:
        try:
            task_pids = api.running_task_pids()
        except (OSError, ApiError):
            pass  # the api-server is already down: nothing more to learn
    stopped += stop_all(["triggerer", "dag-processor", "api-server"])
    for pid in task_pids:
        if pid_alive(pid):
            stop_pid(pid, timeout=5)
    return stopped


# --- Celery -----------------------------------------------------------------------------------------------


def start_redis(state_dir: Path, port: int | None = None) -> str:
    """Debian's redis-server as the Celery broker, in memory only; returns ``redis://127.0.0.1:PORT/0``."""
    binary = REDIS_BINARY if Path(REDIS_BINARY).exists() else shutil.which("redis-server")
    if not binary:
        raise RuntimeError("redis-server not found: install it with `apt-get install redis-server`")
    port = port or free_port()
    start_process(
        "redis",
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        state_dir,
        port,
    )
    return f"redis://127.0.0.1:{port}/0"


def worker_hostname() -> str:
    """``[core] hostname_callable`` for a Celery worker: the name it was started with.

    Workers on separate machines report their own host names; two workers on one machine would report the
    same one, so each is given its own (as docker-compose gives each worker container a host name).
    """
    name = os.environ.get(WORKER_HOSTNAME_VARIABLE)
    if name:
        return name
    import socket

    return socket.getfqdn()


def celery_ping(broker_url: str, nodename: str, timeout: float = 1.0) -> bool:
    from celery import Celery

    app = Celery(broker=broker_url)
    try:
        replies = app.control.ping(destination=[nodename], timeout=timeout)
    finally:
        app.close()
    return any(nodename in reply for reply in replies)


# --- the REST API, as the UI uses it ----------------------------------------------------------------------


class ApiError(RuntimeError):
    def __init__(self, status: int, method: str, path: str, detail: Any):
        self.status, self.detail = status, detail
        super().__init__(f"{method} {path} answered {status}: {detail}")


@dataclass
class AirflowApi:
    """A small client of Airflow's public REST API (``/api/v2``) logged in as a SimpleAuthManager user."""

    base_url: str
    username: str
    password: str = field(repr=False)
    token: str | None = field(default=None, repr=False)

    def login(self) -> AirflowApi:
        answer = self._request(
            "POST", "/auth/token", {"username": self.username, "password": self.password}, auth=False
        )
        self.token = answer["access_token"]
        return self

    def _request(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                detail = json.loads(raw).get("detail", raw.decode(errors="replace"))
            except ValueError:
                detail = raw.decode(errors="replace")
            raise ApiError(exc.code, method, path, detail) from None
        return json.loads(raw) if raw else None

    def get(self, path: str) -> Any:
        return self._request("GET", f"/api/v2{path}")

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", f"/api/v2{path}", body)

    def ui_get(self, path: str) -> Any:
        """The UI's own (private, unversioned) API, for what the public one does not show, e.g. deadlines."""
        return self._request("GET", f"/ui{path}")

    def patch(self, path: str, body: Any) -> Any:
        return self._request("PATCH", f"/api/v2{path}", body)

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.get("/dags?limit=100")["dags"]}

    def wait_for_dags(self, dag_ids: set[str], timeout: float = 120.0) -> set[str]:
        deadline = time.monotonic() + timeout
        while True:
            seen = self.dag_ids()
            if dag_ids <= seen or time.monotonic() > deadline:
                return seen & dag_ids
            time.sleep(1)

    def unpause(self, dag_id: str) -> dict:
        return self.patch(f"/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict | None = None) -> dict:
        """Trigger a run with the body the UI's trigger form sends (no logical date, the form's conf)."""
        return self.post(
            f"/dags/{dag_id}/dagRuns",
            {
                "conf": conf or {},
                "data_interval_end": None,
                "data_interval_start": None,
                "logical_date": None,
                "partition_key": None,
            },
        )

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed") or time.monotonic() > deadline:
                return run
            time.sleep(1)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000")["task_instances"]

    def running_task_pids(self) -> list[int]:
        """Process ids of the task instances running now, in every DAG and run (``~`` matches all)."""
        running = self.get("/dags/~/dagRuns/~/taskInstances?state=running&limit=1000")["task_instances"]
        return [ti["pid"] for ti in running if ti.get("pid")]
