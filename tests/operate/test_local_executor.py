"""Every job run as a user runs it: unpaused and triggered over the REST API, executed by the real scheduler.

The deployment is Airflow's own api-server, scheduler (LocalExecutor), dag-processor and triggerer on a
PostgreSQL metadata database. Each run is triggered with the body the UI's trigger form sends (every
Param, a few changed), and judged by its effects: its rows in the results store, its Pushgateway groups
(holding this run's end time), and its Slack message linking back to the run.

The runs of one "night" are triggered by a module fixture: the backup first (the checksum and restore
jobs read its dump), then everything else at once, as the scheduler would run them; each test then
judges one run.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import pytest
from prometheus_client.parser import text_string_to_metric_families

from stack.airflow_services import ApiError
from tests.operate.support import ARTIFACTS, PROJECT_DAGS, existing_project_dags, run_link

# What a user changes in the trigger form before pressing Trigger (a cheaper dump, the success line on).
FORM_CHANGES = {
    "backup_verify": {"compression": 1},
    "checksum_validation": {"full": True, "notify_success": True},
    "restore_test": {"jobs": 2},
    "sla_uptime": {"notify_success": True},
    "build_size_watchdog": {"notify_success": True},
}
# One gauge per job from the metric contract, in the job's own group.
JOB_GAUGE = {
    "backup_verify": "backup_verified",
    "checksum_validation": "checksum_objects",
    "restore_test": "restore_success",
    "sla_uptime": "sla_uptime_ratio",
    "build_size_watchdog": "build_size_bytes",
}
# The labels that make up a group (job + subject); series labels such as result, tenant or bundle are not.
GROUP_LABELS = {"job", "database", "period", "app"}
MISSING_DUMP = "backups/platform/2026/01/01/platform-does-not-exist.dump"
DEADLINE_PROBE = "operate_deadline_probe"
RUN_TIMEOUT = 360.0


@dataclass
class Triggered:
    dag_id: str
    conf: dict
    run_id: str
    run: dict | None = None
    metrics: str = field(default="", repr=False)  # the Pushgateway's /metrics when the run had finished


@pytest.fixture(scope="module")
def night(local_airflow) -> dict[str, Triggered]:
    airflow = local_airflow
    runs: dict[str, Triggered] = {}

    def trigger(key: str, dag_id: str, **changes) -> None:
        assert airflow.api.unpause(dag_id)["is_paused"] is False
        conf = airflow.ui_conf(dag_id, **changes)
        runs[key] = Triggered(dag_id, conf, airflow.api.trigger(dag_id, conf)["dag_run_id"])

    def wait(keys: list[str]) -> None:
        """Poll the runs together; note the gateway's metrics the moment each one has finished, before a
        later run of the same job (a scheduled one, the failing backup) pushes over them."""
        pending = {key: runs[key] for key in keys}
        deadline = time.monotonic() + RUN_TIMEOUT
        while pending and time.monotonic() < deadline:
            for key, triggered in list(pending.items()):
                run = airflow.api.get(f"/dags/{triggered.dag_id}/dagRuns/{triggered.run_id}")
                if run["state"] in ("success", "failed"):
                    triggered.run, triggered.metrics = run, airflow.metrics_text()
                    del pending[key]
            time.sleep(1)
        for triggered in pending.values():
            triggered.run = airflow.api.get(f"/dags/{triggered.dag_id}/dagRuns/{triggered.run_id}")

    dags = existing_project_dags()
    first = [dag for dag in dags if dag == "backup_verify"]
    for dag_id in first:
        trigger(dag_id, dag_id, **FORM_CHANGES[dag_id])
    wait(first)
    rest = [dag for dag in dags if dag not in first]
    for dag_id in rest:
        trigger(dag_id, dag_id, **FORM_CHANGES[dag_id])
    if "backup_verify" in dags:
        trigger("backup_verify:missing-dump", "backup_verify", verify_only_key=MISSING_DUMP)
    # Queued together: the first has nothing to do, the second works far past the deadline.
    trigger("deadline:in-time", DEADLINE_PROBE, seconds=0)
    trigger("deadline:late", DEADLINE_PROBE, seconds=300)
    wait([key for key in runs if key not in first and key != "deadline:late"])
    # The late run is still working when the deployment stops; stop_airflow ends its task.
    return runs


def require_dag(dag_id: str) -> None:
    if dag_id not in existing_project_dags():
        pytest.skip(f"dags/{dag_id}.py does not exist (yet)")


def samples(metrics_text: str, name: str) -> list:
    return [
        s for family in text_string_to_metric_families(metrics_text) for s in family.samples if s.name == name
    ]


def in_group(sample, group: dict[str, str]) -> bool:
    """The sample belongs to exactly this group: the group's labels, and no other grouping label."""
    grouping = {k: v for k, v in sample.labels.items() if k in GROUP_LABELS}
    return grouping == {k: str(v) for k, v in group.items()}


def section_texts(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b]


def block_fields(message: dict) -> set[str]:
    return {f["text"] for b in message["blocks"] if b["type"] == "section" for f in b.get("fields", [])}


@pytest.mark.parametrize("dag_id", PROJECT_DAGS)
def test_run_triggered_from_the_trigger_form_succeeds_and_reaches_store_gateway_and_slack(
    local_airflow, night, dag_id
):
    require_dag(dag_id)
    airflow, triggered = local_airflow, night[dag_id]
    run = triggered.run
    assert run["state"] == "success", airflow.explain(dag_id, run)
    assert run["conf"] == triggered.conf

    rows = airflow.runs_rows(dag_id, triggered.run_id)
    assert rows, f"no reliability.runs row of {dag_id} for run {triggered.run_id}"
    assert {r["status"] for r in rows} <= {"success", "warning"}

    # Each stored outcome's Pushgateway group (job + its subject) holds this run's figures: its end time
    # as stored in the results store, success, and the job's own gauge.
    metrics = triggered.metrics
    for row in rows:
        group = {"job": dag_id, **row["summary"]["subject"]}
        last_run = [
            s.value
            for s in samples(metrics, "reliability_job_last_run_timestamp_seconds")
            if in_group(s, group)
        ]
        assert last_run == [pytest.approx(row["finished_at"].timestamp(), abs=1e-3)], (group, last_run)
        assert [s.value for s in samples(metrics, "reliability_job_success") if in_group(s, group)] == [1.0]
        assert [
            s
            for s in samples(metrics, "reliability_job_last_success_timestamp_seconds")
            if in_group(s, group)
        ]
        assert [s for s in samples(metrics, JOB_GAUGE[dag_id]) if in_group(s, group)], (
            f"{JOB_GAUGE[dag_id]} missing from group {group}"
        )

    link = run_link(airflow.api.base_url, dag_id, triggered.run_id)
    messages = airflow.wait_for_slack(link, timeout=10)
    assert messages, f"no Slack message links to {link}"
    assert dag_id in messages[0]["text"]


@pytest.mark.parametrize("dag_id", PROJECT_DAGS)
def test_once_unpaused_the_scheduler_creates_the_latest_scheduled_run_itself(local_airflow, night, dag_id):
    require_dag(dag_id)
    # catchup=False: unpausing yields the run of the latest schedule time, then one per schedule time.
    scheduled = local_airflow.api.get(f"/dags/{dag_id}/dagRuns?run_type=scheduled&limit=10")["dag_runs"]
    assert len(scheduled) == 1, [r["dag_run_id"] for r in scheduled]
    assert scheduled[0]["run_type"] == "scheduled" and scheduled[0]["logical_date"] is not None


@pytest.mark.parametrize("dag_id", PROJECT_DAGS)
def test_trigger_with_a_value_its_param_forbids_is_refused_and_starts_no_run(local_airflow, dag_id):
    require_dag(dag_id)
    airflow = local_airflow
    params = airflow.api.get(f"/dags/{dag_id}/details")["params"]
    name, bad, reason = invalid_value(params)
    # Manual runs only: the scheduler may add a scheduled run meanwhile.
    manual_runs = f"/dags/{dag_id}/dagRuns?limit=1&run_type=manual"
    before = airflow.api.get(manual_runs)["total_entries"]
    with pytest.raises(ApiError) as refused:
        airflow.api.trigger(dag_id, airflow.ui_conf(dag_id, **{name: bad}))
    assert refused.value.status == 400
    # The message names the Param and why, so the user can correct the form.
    assert f"Invalid input for param {name}:" in str(refused.value.detail)
    assert reason in str(refused.value.detail)
    assert airflow.api.get(manual_runs)["total_entries"] == before


def invalid_value(params: dict) -> tuple[str, object, str]:
    """A Param, a value its JSON schema rejects (out of an enum, below a minimum, of the wrong type) and the
    reason the schema validator gives."""
    for name, spec in params.items():
        schema = spec.get("schema") or {}
        if "enum" in schema:
            return name, "no-such-choice", "is not one of"
        if "minimum" in schema:
            return name, schema["minimum"] - 1, "is less than the minimum of"
    for name, spec in params.items():
        schema = spec.get("schema") or {}
        if schema.get("type") == "boolean":
            return name, "not-a-boolean", "is not of type 'boolean'"
    raise AssertionError(f"no Param with a checkable constraint in {sorted(params)}")


def test_failed_run_posts_dag_task_run_and_link_to_slack(local_airflow, night):
    require_dag("backup_verify")
    airflow, triggered = local_airflow, night["backup_verify:missing-dump"]
    run_id = triggered.run_id
    assert triggered.run["state"] == "failed"
    failed = airflow.failed_tasks("backup_verify", run_id)
    assert failed

    # notify_failure (DEFAULT_ARGS' on_failure_callback), run by the task runner under the real scheduler.
    alerts = [
        m
        for m in airflow.wait_for_slack(f"failed in run {run_id}", timeout=30)
        if m["text"].startswith(":rotating_light: backup_verify.")
    ]
    assert alerts, f"no failure callback message for run {run_id}"
    alert = alerts[0]
    task_id = alert["text"].split("backup_verify.", 1)[1].split(" ", 1)[0]
    assert task_id in failed
    assert {"*DAG*\nbackup_verify", f"*Task*\n{task_id}", f"*Run*\n{run_id}"} <= block_fields(alert)
    assert run_link(airflow.api.base_url, "backup_verify", run_id) in str(alert["blocks"])


def test_run_past_its_deadline_posts_to_slack_and_a_run_in_time_does_not(local_airflow, night):
    airflow = local_airflow
    late, in_time = night["deadline:late"].run_id, night["deadline:in-time"].run_id
    messages = airflow.wait_for_slack(f"missed its deadline in run {late}", timeout=120)
    assert messages, f"no deadline message for run {late}; triggerer log:\n{airflow.log_tail('triggerer')}"
    message = messages[0]
    assert {f"*DAG*\n{DEADLINE_PROBE}", f"*Run*\n{late}"} <= block_fields(message)
    # The task is named with its state (running, or queued when every slot was taken at the time).
    assert any(
        re.fullmatch(r"\*Tasks not finished\*\nwork \((running|queued|scheduled)\)", text)
        for text in section_texts(message)
    ), section_texts(message)
    assert run_link(airflow.api.base_url, DEADLINE_PROBE, late) in str(message["blocks"])
    # The UI's own API shows the deadline as missed.
    deadlines = airflow.api.ui_get(f"/dags/{DEADLINE_PROBE}/dagRuns/{late}/deadlines")["deadlines"]
    assert [d["missed"] for d in deadlines] == [True]

    assert night["deadline:in-time"].run["state"] == "success"
    # Its deadline was removed when it succeeded, and had passed by the time the late run's was reported.
    assert airflow.api.ui_get(f"/dags/{DEADLINE_PROBE}/dagRuns/{in_time}/deadlines")["total_entries"] == 0
    assert not airflow.slack_messages(f"missed its deadline in run {in_time}")


def test_run_triggered_in_the_browser_runs_to_success(local_airflow, night):
    """A user logs in to the UI, changes a Param in backup_verify's trigger form, triggers, sees it succeed."""
    import uuid

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import WAIT, chromium_driver, log_in, trigger_from_form

    artifacts = ARTIFACTS / "browser"
    artifacts.mkdir(parents=True, exist_ok=True)
    api = local_airflow.api
    run_id = f"browser_{uuid.uuid4().hex[:10]}"
    with chromium_driver() as driver:
        log_in(driver, api.base_url, api.username, api.password)
        trigger_from_form(driver, api.base_url, "backup_verify", "compression", 3, run_id, artifacts)
        run = api.wait_for_run("backup_verify", run_id, timeout=300)
        driver.get(f"{api.base_url}/dags/backup_verify/runs/{run_id}")
        WebDriverWait(driver, WAIT).until(
            EC.presence_of_element_located((By.XPATH, f"//*[contains(., '{run_id}')]"))
        )
        driver.save_screenshot(str(artifacts / "backup_verify-run-succeeded.png"))
    assert run["state"] == "success", run
    assert run["conf"]["compression"] == 3
    assert (artifacts / "backup_verify-run-succeeded.png").stat().st_size > 0
