"""The checksum_validation DAG file: parses cheaply, and is wired as the job requires."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reliability.airflow.tasks import check_outcomes as check_findings
from reliability.airflow.tasks.checksum_validation import run_config
from reliability.checksum.config import GIB

ROOT = Path(__file__).resolve().parents[2]
PARSE = r"""
import json, sys
import airflow.sdk, pendulum
from airflow.dag_processing.dagbag import DagBag
before = set(sys.modules)
bag = DagBag(dag_folder="dags/checksum_validation.py", safe_mode=False)
dag = bag.dags.get("checksum_validation")
out = {"errors": {k: str(v) for k, v in bag.import_errors.items()},
       "new_modules": sorted(set(sys.modules) - before)}
if dag:
    timetable = dag.timetable
    out.update(
        schedule=type(timetable).__name__, cron=timetable.timetable.expression,
        assets=sorted(a.name for a in timetable.asset_condition.objects),
        condition=type(timetable.asset_condition).__name__,
        tasks={t.task_id: {"downstream": sorted(t.downstream_task_ids), "trigger_rule": getattr(t.trigger_rule, "value", t.trigger_rule),
                           "retries": t.retries, "owner": t.owner, "mapped": "MappedOperator" in [c.__name__ for c in type(t).__mro__]}
               for t in dag.tasks},
        params={k: {"title": v.schema.get("title"), "description": v.description} for k, v in dag.params.items()},
        max_active_runs=dag.max_active_runs, catchup=dag.catchup, tags=sorted(dag.tags), doc=len(dag.doc_md or ""))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def parsed():
    result = subprocess.run(
        [sys.executable, "-c", PARSE],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'include'}:{ROOT}"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dag_parses_without_heavy_imports(parsed):
    assert parsed["errors"] == {}
    heavy = [
        m for m in parsed["new_modules"] if m.split(".")[0] in ("boto3", "botocore", "psycopg", "pandas")
    ]
    assert heavy == []


def test_dag_runs_daily_and_after_any_new_backup(parsed):
    from reliability.airflow.assets import BACKUP_ASSETS

    assert parsed["schedule"] == "AssetOrTimeSchedule" and parsed["cron"] == "30 4 * * *"
    assert parsed["condition"] == "AssetAny"
    assert parsed["assets"] == sorted(a.name for a in BACKUP_ASSETS) and parsed["assets"]


def test_tasks_plan_then_validate_mapped_shards_then_summarise_publish_and_gate(parsed):
    tasks = parsed["tasks"]
    assert tasks["plan_checks"]["downstream"] == ["validate_shard"]
    assert tasks["validate_shard"]["mapped"] and tasks["validate_shard"]["downstream"] == ["summarise"]
    assert tasks["summarise"]["trigger_rule"] == "all_done"
    assert tasks["summarise"]["downstream"] == ["check_outcomes", "publish_results"]
    assert tasks["publish_results"]["downstream"] == ["check_outcomes"]
    assert tasks["check_outcomes"]["retries"] == 0
    assert all(t["retries"] >= 1 for name, t in tasks.items() if name != "check_outcomes")
    assert {t["owner"] for t in tasks.values()} == {"reliability"}
    assert parsed["max_active_runs"] == 1 and parsed["catchup"] is False and parsed["doc"] > 500


def test_params_explain_themselves(parsed):
    assert set(parsed["params"]) == {"prefixes", "byte_budget_gib", "full", "notify_success"}
    assert all(p["title"] and p["description"] for p in parsed["params"].values())


def test_trigger_form_values_become_the_run_config():
    config, full = run_config({"prefixes": ["uploads/tenant-001/"], "byte_budget_gib": 0.5, "full": True})
    assert config.prefixes == ("uploads/tenant-001/",) and config.byte_budget == GIB // 2 and full
    default, full = run_config({"prefixes": None, "byte_budget_gib": None, "full": False})
    assert default.prefixes == ("backups/", "uploads/") and not full


def test_gate_fails_the_run_only_for_a_failed_outcome():
    from airflow.sdk.exceptions import AirflowFailException

    assert check_findings([{"status": "warning", "headline": "2 unreadable"}]) == "2 unreadable"
    with pytest.raises(AirflowFailException, match="3 mismatched"):
        check_findings([{"status": "failed", "headline": "Checksums: 3 mismatched"}])
