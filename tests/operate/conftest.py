"""Airflow operated as users operate it: its real components on the local stack, driven over the REST API.

``operate_world`` (session) is the data side, built from the root fixtures: a small seeded platform
database, a migrated results store, a bucket with the demo uploads and builds, the Pushgateway, the Slack
receiver and the fake UptimeRobot. Each test module then gets its own Airflow deployment on it, with a
fresh PostgreSQL metadata database: ``local_airflow`` (LocalExecutor) or ``celery_airflow`` (CeleryExecutor,
a local Redis broker and two workers). Both load the project's ``dags/`` and, as a second DAG bundle, the
small probe DAGs of ``tests/operate/dags/``.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stack.airflow import Endpoints, environment, migrate_metadata
from stack.airflow_services import (
    AirflowApi,
    airflow_settings,
    celery_settings,
    start_airflow,
    start_redis,
    stop_airflow,
    write_password,
)
from stack.fake_uptimerobot import FakeUptimeRobot, generate_dataset
from stack.platform import seed_platform, tenants_with_sites
from stack.processes import free_port, stop_process
from tests.operate.support import ARTIFACTS, PROBE_DAGS, existing_project_dags

BUCKET = "operate-backups"
UPTIMEROBOT_KEY = "u1234567-" + "0123456789abcdef" * 2


@dataclass
class World:
    # Kept out of repr (and so out of pytest's failure reports): the cluster and the DSNs hold passwords.
    pg: Any = field(repr=False)
    s3: Any
    s3_url: str
    pushgateway_url: str
    slack: Any
    uptimerobot: FakeUptimeRobot
    platform_dsn: str = field(repr=False)
    results_dsn: str = field(repr=False)
    log_path: Path
    bucket: str = BUCKET


@pytest.fixture(scope="session")
def operate_world(pg_cluster, s3_client, s3_server, pushgateway, slack_server, stack_dir):
    from reliability.core.store import migrate
    from stack.demo_builds import seed_demo_builds
    from stack.demo_uploads import seed_demo_uploads

    platform_dsn = pg_cluster.create_database("operate_platform")
    seed_platform(platform_dsn, scale=0.05)
    results_dsn = pg_cluster.create_database("operate_results")
    migrate(results_dsn)
    s3_client.create_bucket(Bucket=BUCKET)
    seed_demo_uploads(s3_client, BUCKET)
    seed_demo_builds(s3_client, BUCKET)
    uptimerobot = FakeUptimeRobot(generate_dataset(tenants_with_sites(platform_dsn)), UPTIMEROBOT_KEY).start()
    yield World(
        pg=pg_cluster,
        s3=s3_client,
        s3_url=s3_server,
        pushgateway_url=pushgateway.url,
        slack=slack_server,
        uptimerobot=uptimerobot,
        platform_dsn=platform_dsn,
        results_dsn=results_dsn,
        log_path=stack_dir / "operate-logs" / "backup-monitor.log",
    )
    uptimerobot.stop()


@dataclass
class Deployment:
    """One running Airflow deployment and what a test needs to drive it and check its effects."""

    name: str
    env: dict[str, str] = field(repr=False)
    state_dir: Path
    api: AirflowApi
    world: World = field(repr=False)
    workers: list[str] = field(default_factory=list)

    # -- driving it as the UI does
    def ui_conf(self, dag_id: str, **changes: Any) -> dict[str, Any]:
        """The conf the trigger form submits: every Param at its default, with the fields the user changed."""
        params = self.api.get(f"/dags/{dag_id}/details")["params"] or {}
        conf = {name: spec.get("value") for name, spec in params.items()}
        unknown = set(changes) - set(conf)
        assert not unknown, f"{dag_id} has no Param(s) {sorted(unknown)}; it has {sorted(conf)}"
        conf.update(changes)
        return conf

    def trigger_and_wait(self, dag_id: str, conf: dict, timeout: float = 240.0) -> dict:
        run = self.api.trigger(dag_id, conf)
        return self.api.wait_for_run(dag_id, run["dag_run_id"], timeout)

    def failed_tasks(self, dag_id: str, run_id: str) -> list[str]:
        return sorted(
            {
                ti["task_id"]
                for ti in self.api.task_instances(dag_id, run_id)
                if ti["state"] in ("failed", "upstream_failed")
            }
        )

    def log_tail(self, component: str, chars: int = 3000) -> str:
        path = self.state_dir / f"{component}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def task_logs(self, dag_id: str, run_id: str, chars: int = 4000) -> str:
        """The tail of each failed task's log (local files: every component here writes the same folder)."""
        folder = Path(self.env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]) / f"dag_id={dag_id}" / f"run_id={run_id}"
        texts = []
        for path in sorted(folder.rglob("*.log")) if folder.exists() else []:
            text = path.read_text(errors="replace")
            if '"level":"error"' in text or "error" in text.lower():
                texts.append(f"--- {path.relative_to(folder)}\n{text[-chars:]}")
        return "\n".join(texts) or f"(no task logs under {folder})"

    def explain(self, dag_id: str, run: dict) -> str:
        return (
            f"{dag_id} run {run['dag_run_id']} ended {run['state']}; failed tasks: "
            f"{self.failed_tasks(dag_id, run['dag_run_id'])}\n{self.task_logs(dag_id, run['dag_run_id'])}"
        )

    # -- the effects
    def slack_messages(self, needle: str) -> list[dict]:
        return [m for m in list(self.world.slack.messages) if needle in json.dumps(m)]

    def wait_for_slack(self, needle: str, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.slack_messages(needle)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.5)

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"{self.world.pushgateway_url}/metrics", timeout=10) as response:
            return response.read().decode()

    def runs_rows(self, job: str, run_id: str) -> list[dict]:
        from reliability.core.store import connect

        with connect(self.world.results_dsn) as conn:
            cur = conn.execute(
                """SELECT job, interval_key, status, started_at, finished_at, summary
                                  FROM reliability.runs WHERE job = %s AND interval_key LIKE %s""",
                (job, run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
            )
            names = [d.name for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]


def _deployment_env(world: World, state_dir: Path, metadata_db: str, **settings: Any) -> dict[str, str]:
    pg = world.pg
    env = environment(
        Endpoints(
            airflow_home=state_dir / "home",
            source_db_uri=pg.airflow_uri("operate_platform"),
            scratch_db_uri=pg.airflow_uri("postgres"),
            results_db_uri=pg.airflow_uri("operate_results"),
            s3_url=world.s3_url,
            bucket=world.bucket,
            pushgateway_port=int(world.pushgateway_url.rsplit(":", 1)[1]),
            slack_webhook_url=world.slack.url,
            uptimerobot_url=world.uptimerobot.url.removesuffix("/v2"),
            uptimerobot_api_key=UPTIMEROBOT_KEY,
            api_port=free_port(),
            log_path=world.log_path,
        )
    )
    metadata_url = pg.create_database(metadata_db).replace("postgresql://", "postgresql+psycopg://", 1)
    env.update(airflow_settings(metadata_url, **settings))
    env["RELIABILITY_TASK_RETRIES"] = "0"
    env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
        [
            {
                "name": "dags-folder",
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {},
            },
            {
                "name": "operate-probes",
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(PROBE_DAGS)},
            },
        ]
    )
    return env


def _keep_logs(state_dir: Path, name: str) -> None:
    """Component and task logs outlive the temporary stack folder, for whoever reads a failure afterwards."""
    target = ARTIFACTS / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    for log in state_dir.glob("*.log"):
        shutil.copy2(log, target / log.name)
    for task_logs in (state_dir / "home" / "logs").glob("dag_id=*"):  # what each task printed
        shutil.copytree(task_logs, target / "tasks" / task_logs.name)


def _expected_dags() -> set[str]:
    return set(existing_project_dags()) | {p.stem for p in PROBE_DAGS.glob("operate_*.py")}


def _open(env: dict[str, str], state_dir: Path, world: World, name: str, password: str) -> Deployment:
    api = AirflowApi(env["AIRFLOW__API__BASE_URL"], "admin", password).login()
    expected = _expected_dags()
    seen = api.wait_for_dags(expected, timeout=120)
    if seen != expected:
        errors = api.get("/importErrors")["import_errors"]
        raise RuntimeError(
            f"the dag-processor did not serialize {sorted(expected - seen)}; import errors: "
            f"{[(e['filename'], e['stack_trace'][-800:]) for e in errors]}"
        )
    return Deployment(name, env, state_dir, api, world)


@pytest.fixture(scope="module")
def local_airflow(operate_world, stack_dir):
    """api-server, scheduler (LocalExecutor), dag-processor and triggerer on their own metadata database."""
    name = f"local-{secrets.token_hex(3)}"
    state_dir = stack_dir / f"operate-{name}"
    env = _deployment_env(
        operate_world,
        state_dir,
        f"operate_airflow_{name.replace('-', '_')}",
        executor="LocalExecutor",
        parallelism=8,
    )
    password = write_password(env)
    migrate_metadata(env)
    deployment = None
    try:
        start_airflow(env, state_dir)
        deployment = _open(env, state_dir, operate_world, name, password)
        yield deployment
    finally:
        stop_airflow(state_dir, deployment.api if deployment else None)
        _keep_logs(state_dir, "local")


@pytest.fixture(scope="module")
def celery_airflow(operate_world, stack_dir):
    """The same components with the CeleryExecutor: a local Redis broker, results in the metadata database,
    and two workers named worker-a and worker-b (concurrency 1 each: two task slots on a two-core machine)."""
    name = f"celery-{secrets.token_hex(3)}"
    state_dir = stack_dir / f"operate-{name}"
    metadata_db = f"operate_airflow_{name.replace('-', '_')}"
    env = _deployment_env(operate_world, state_dir, metadata_db, executor="CeleryExecutor", parallelism=8)
    broker = start_redis(state_dir)
    result_backend = operate_world.pg.dsn(metadata_db).replace("postgresql://", "db+postgresql://", 1)
    env.update(celery_settings(broker, result_backend, concurrency=1))
    # Only the runs the test triggers: the scheduled run that unpausing adds (see test_local_executor)
    # would hold a worker at the moment the shards are queued.
    env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
    password = write_password(env)
    deployment = None
    try:
        migrate_metadata(env)
        workers = ("worker-a", "worker-b")
        start_airflow(env, state_dir, celery_workers=workers, worker_concurrency=1)
        deployment = _open(env, state_dir, operate_world, name, password)
        deployment.workers = list(workers)
        yield deployment
    finally:
        stop_airflow(state_dir, deployment.api if deployment else None)
        stop_process("redis", state_dir)
        _keep_logs(state_dir, "celery")
