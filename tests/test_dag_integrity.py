"""Every DAG file parses cleanly, cheaply, and carries what operators rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))
EXPECTED_DAGS = {
    "backup_verify",
    "checksum_validation",
    "restore_test",
    "sla_uptime",
    "build_size_watchdog",
    "performance_watchdog",
}
HEAVY_MODULES = (
    "great_expectations",
    "pandas",
    "boto3",
    "botocore",
    "psycopg",
    "brotli",
    "airflow.providers.postgres.hooks.postgres",
    "airflow.providers.amazon.aws.hooks.s3",
)

# Runs in a fresh interpreter so that the parse time and the imported modules are the DAG files' own.
PARSE_SCRIPT = r"""
import json, sys, time
import airflow.sdk, pendulum  # what any DAG file needs; not counted against the files
from airflow.dag_processing.dagbag import DagBag
before = set(sys.modules)
out = {"files": {}, "dags": {}}
for path in sys.argv[1:]:
    started = time.perf_counter()
    bag = DagBag(dag_folder=path, safe_mode=False)
    out["files"][path] = {"seconds": time.perf_counter() - started, "errors": {k: str(v) for k, v in bag.import_errors.items()}}
    for dag_id, dag in bag.dags.items():
        tasks = dag.tasks
        out["dags"][dag_id] = {
            "file": path, "tags": sorted(dag.tags), "doc_md": dag.doc_md or "", "owners": sorted({t.owner for t in tasks}),
            "retries": {t.task_id: t.retries for t in tasks}, "max_active_runs": dag.max_active_runs,
            "catchup": dag.catchup, "description": dag.description or "",
            "params": {k: {**dict(v.schema), "description": v.description or v.schema.get("description")}
                       for k, v in dag.params.items()},
        }
out["new_modules"] = sorted(set(sys.modules) - before)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def parsed():
    result = subprocess.run(
        [sys.executable, "-c", PARSE_SCRIPT, *map(str, DAG_FILES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**__import__("os").environ, "PYTHONPATH": f"{ROOT / 'include'}:{ROOT}"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_expected_dag_is_defined(parsed):
    assert set(parsed["dags"]) == EXPECTED_DAGS


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_without_errors_and_its_parse_time_is_reported(parsed, path):
    stats = parsed["files"][str(path)]
    print(f"\nparse time {path.name}: {stats['seconds'] * 1000:.0f} ms")
    assert stats["errors"] == {}


def test_dag_files_import_no_heavy_library_at_top_level(parsed):
    heavy = [m for m in parsed["new_modules"] if m.split(".")[0] in HEAVY_MODULES or m in HEAVY_MODULES]
    assert heavy == []


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_dag_has_owner_tags_retries_docs_and_no_overlap(parsed, dag_id):
    dag = parsed["dags"][dag_id]
    assert dag["owners"] == ["reliability"]
    assert "reliability" in dag["tags"] and len(dag["tags"]) >= 2
    assert len(dag["doc_md"]) > 200, "doc_md should explain the job to an operator"
    assert dag["description"]
    assert dag["max_active_runs"] == 1 and dag["catchup"] is False
    # Tasks talk to servers: they retry, except deliberate gates that turn a finding into a failed run.
    retrying = [t for t, r in dag["retries"].items() if r >= 1]
    assert len(retrying) >= len(dag["retries"]) - 2, dag["retries"]


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_params_explain_themselves_in_the_trigger_form(parsed, dag_id):
    for name, schema in parsed["dags"][dag_id]["params"].items():
        assert schema.get("title") and schema.get("description"), f"{dag_id}.{name} lacks title/description"
