"""The job's outcomes through the shared publisher, and the DAG's wiring."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from reliability.adapters.pushgateway import PushgatewayConfig
from reliability.backup.models import BackupRequest
from reliability.backup.run import run
from reliability.core.publish import PublishIncomplete, PublishTargets, publish
from reliability.core.store import connect, latest_runs
from stack.processes import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_verified_backup_reaches_the_pushgateway_with_the_contract_names(
    config, targets, pushgateway, tmp_path
):
    outcome = run(BackupRequest("platform", interval_key="pub-1"), config, targets)
    publish(
        [outcome],
        PublishTargets(
            targets.results_dsn,
            PushgatewayConfig(pushgateway.url),
            None,
            tmp_path / "backup-monitor.log",
            interval_key="pub-1",
        ),
    )
    text = urllib.request.urlopen(f"{pushgateway.url}/metrics").read().decode()
    for name in (
        "backup_size_bytes",
        "backup_duration_seconds",
        "backup_verified",
        "backup_suspicious",
        "backup_tables",
        "backup_rows",
        "backup_age_seconds",
        "reliability_job_last_success_timestamp_seconds",
        "reliability_verifier_canary_ok",
    ):
        assert f'{name}{{database="platform",instance="",job="backup_verify"}}' in text, name
    assert 'backup_verified{database="platform",instance="",job="backup_verify"} 1' in text
    line = json.loads((tmp_path / "backup-monitor.log").read_text().splitlines()[-1])
    assert (
        line["action"] == "backup.verify" and line["status"] == "success" and line["database"] == "platform"
    )


def test_pushgateway_down_still_stores_and_logs_the_verdict(config, targets, tmp_path):
    outcome = run(BackupRequest("platform", interval_key="pub-2"), config, targets)
    dead = PushgatewayConfig(f"http://127.0.0.1:{free_port()}", attempts=2, backoff_seconds=0.01)
    with pytest.raises(PublishIncomplete, match="Pushgateway"):
        publish(
            [outcome],
            PublishTargets(targets.results_dsn, dead, None, tmp_path / "m.log", interval_key="pub-2"),
        )
    with connect(targets.results_dsn) as conn:
        (stored,) = latest_runs(conn, "backup_verify")
    assert stored["status"] == "success" and stored["summary"]["verdict"] == "verified"
    assert stored["summary"]["publish_errors"]
    assert json.loads((tmp_path / "m.log").read_text())["verdict"] == "verified"


def test_dag_parses_with_its_tasks_params_and_asset_alias(tmp_path):
    script = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder="dags/backup_verify.py")
dag = bag.dags["backup_verify"]
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "tasks": dag.task_ids,
                  "params": sorted(dag.params.keys()), "max_active_runs": dag.max_active_runs,
                  "schedule": dag.timetable.expression, "catchup": dag.catchup,
                  "outlets": [o.name for o in dag.get_task("announce_verified_backups").outlets],
                  "doc": bool(dag.doc_md), "owner": dag.default_args["owner"]}))
"""
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'include'}{os.pathsep}{ROOT}",
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info["errors"] == {}
    assert sorted(info["tasks"]) == [
        "announce_verified_backups",
        "check_outcomes",
        "dump_and_verify",
        "plan_backups",
        "publish_results",
    ]
    assert info["params"] == [
        "compression",
        "databases",
        "dump_format",
        "jobs",
        "notify_success",
        "verify_only_key",
    ]
    assert (info["max_active_runs"], info["schedule"], info["catchup"]) == (1, "0 2 * * *", False)
    assert (
        info["outlets"] == ["backup_verify/verified-backups"]
        and info["doc"]
        and info["owner"] == "reliability"
    )


def test_assets_module_names_one_asset_per_configured_database():
    from reliability.airflow.assets import BACKUP_ASSETS, backup_asset

    assert [a.name for a in BACKUP_ASSETS] == ["backup_verify/platform"]
    assert backup_asset("platform").uri == "x-reliability://backups/platform"


def test_only_usable_new_dumps_are_announced():
    from reliability.airflow.assets import BACKUP_ALIAS, announce_verified_backups

    class Events(dict):
        def __missing__(self, key):
            self[key] = Recorder()
            return self[key]

    class Recorder(list):
        def add(self, asset, extra=None):
            self.append((asset.name, extra))

    outcomes = [
        {"summary": {"database": db, "verdict": verdict, "mode": mode, "dump_key": f"k-{db}"}}
        for db, verdict, mode in [
            ("a", "verified", "backup"),
            ("b", "corrupt", "backup"),
            ("c", "suspicious", "backup"),
            ("d", "verified", "verify"),
        ]
    ]
    events = Events()
    assert announce_verified_backups(outcomes, events) == ["a", "c"]
    assert [(name, extra["dump_key"]) for name, extra in events[BACKUP_ALIAS]] == [
        ("backup_verify/a", "k-a"),
        ("backup_verify/c", "k-c"),
    ]


def test_plan_task_refuses_a_verify_only_key_that_is_no_dump_before_anything_runs(
    monkeypatch, s3_server, s3_client, s3_bucket
):
    """Issue 15, defect 4: the run fails at its first task with the reason, so nothing is published and
    the database's gauges and rows keep describing its real backups."""
    from airflow.sdk.exceptions import AirflowFailException

    from reliability.airflow.tasks.backup_verify import plan

    extra = {"bucket": s3_bucket, "endpoint_url": s3_server, "region_name": "us-east-1"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_RELIABILITY_S3",
        json.dumps({"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}),
    )
    good = "backups/platform/2026/01/01/platform-20260101T020000Z.dump"
    s3_client.put_object(Bucket=s3_bucket, Key=good, Body=b"PGDMP")

    def context(key):
        return {"params": {"databases": ["platform"], "verify_only_key": key}, "run_id": "manual__typo"}

    for key, reason in [
        ("../../etc/passwd", "'.' or '..' path segments"),
        ("backups/nonexistent/2026/01/01/x.dump", "not under a configured database's prefix"),
        ("backups/platform/2026/01/01/none.dump", "does not exist"),
    ]:
        with pytest.raises(AirflowFailException, match=reason):
            plan(context(key))
    (planned,) = plan(context(good))
    assert (planned["database"], planned["verify_only_key"]) == ("platform", good)
