"""The restore_test DAG's wiring: weekly schedule, step order, teardown scope, the failing gate."""

from __future__ import annotations

from itertools import pairwise

import pytest


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder="dags/restore_test.py", safe_mode=False)
    assert bag.import_errors == {}
    return bag.dags["restore_test"]


def test_runs_weekly_on_sunday_at_four_utc(dag):
    assert dag.timetable.expression == "0 4 * * 0" and str(dag.timetable.timezone) == "UTC"
    assert dag.max_active_runs == 1 and dag.catchup is False


def test_steps_run_in_order_and_the_drop_is_a_teardown_of_the_create(dag):
    order = ["choose_backup", "download_and_check", "create_scratch_database", "restore", "validate"]
    for upstream, downstream in pairwise(order):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    drop = dag.get_task("drop_scratch_database")
    assert drop.is_teardown and dag.get_task("create_scratch_database").is_setup
    assert {"create_scratch_database", "validate"} <= drop.upstream_task_ids


def test_publish_runs_whatever_happened_and_the_gate_fails_the_run_without_retrying(dag):
    publish, gate = dag.get_task("publish_results"), dag.get_task("check_outcomes")
    assert publish.trigger_rule == "all_done"
    assert "drop_scratch_database" in publish.upstream_task_ids
    assert gate.upstream_task_ids == {"publish_results"} and gate.retries == 0


def test_params_offer_database_backup_jobs_and_keep(dag):
    params = dag.params
    assert set(params) >= {"database", "backup_key", "jobs", "keep_scratch_on_failure"}
    assert params.get_param("database").schema["enum"] == ["platform"]
    assert params.get_param("jobs").schema["minimum"] == 1
