import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from reliability.adapters.pushgateway import PushgatewayConfig
from reliability.airflow.slack import SlackNotifier
from reliability.core.outcome import Metric, Outcome
from reliability.core.publish import PublishIncomplete, PublishTargets, publish
from reliability.core.store import connect, latest_runs
from stack.processes import free_port

T0 = datetime(2026, 11, 29, 2, tzinfo=UTC)


def corrupt_backup(database="platform"):
    return Outcome(
        "backup_verify",
        {"database": database},
        "failed",
        T0,
        T0 + timedelta(seconds=30),
        f"Backup of {database} is corrupt",
        summary={"verdict": "corrupt"},
        facts=(("Verdict", "corrupt"),),
        metrics=(Metric("backup_verified", 0),),
        alert=True,
        action="backup.verify",
    )


@pytest.fixture
def slack_conn(slack_receiver, monkeypatch):
    base, token = slack_receiver.url.split("/services/")
    monkeypatch.setenv(
        "AIRFLOW_CONN_RELIABILITY_SLACK",
        json.dumps({"conn_type": "slackwebhook", "host": f"{base}/services", "password": token}),
    )


def test_outcome_is_stored_logged_pushed_and_sent(
    results_dsn, pushgateway, slack_receiver, slack_conn, tmp_path
):
    targets = PublishTargets(
        results_dsn,
        PushgatewayConfig(pushgateway.url),
        SlackNotifier(),
        tmp_path / "m.log",
        interval_key="2026-11-28/2026-11-29",
    )
    report = publish([corrupt_backup("pub_ok")], targets)
    assert (report.stored, report.logged, report.pushed, report.slack_sent) == (1, 1, 1, True)
    text = urllib.request.urlopen(f"{pushgateway.url}/metrics").read().decode()
    assert 'reliability_job_success{database="pub_ok",instance="",job="backup_verify"} 0' in text
    assert 'reliability_job_last_success_timestamp_seconds{database="pub_ok"' not in text
    assert json.loads((tmp_path / "m.log").read_text())["action"] == "backup.verify"
    assert "corrupt" in slack_receiver.messages[0]["text"]


def test_gateway_and_slack_down_still_store_and_log_then_report(results_dsn, monkeypatch, tmp_path):
    monkeypatch.setenv(
        "AIRFLOW_CONN_RELIABILITY_SLACK",
        json.dumps(
            {
                "conn_type": "slackwebhook",
                "host": f"http://127.0.0.1:{free_port()}/services",
                "password": "T1/B1/sec",
            }
        ),
    )
    targets = PublishTargets(
        results_dsn,
        PushgatewayConfig(f"http://127.0.0.1:{free_port()}", attempts=2, backoff_seconds=0.01),
        SlackNotifier(),
        tmp_path / "m.log",
        interval_key="k1",
    )
    with pytest.raises(PublishIncomplete) as info:
        publish([corrupt_backup("pub_down")], targets)
    assert "Pushgateway" in str(info.value) and "Slack" in str(info.value)
    with connect(results_dsn) as conn:
        (run,) = latest_runs(conn, "backup_verify")
    assert run["status"] == "failed" and run["summary"]["verdict"] == "corrupt"
    assert len(run["summary"]["publish_errors"]) == 2
    assert json.loads((tmp_path / "m.log").read_text())["status"] == "failed"


def test_republishing_the_same_interval_is_idempotent(results_dsn, tmp_path):
    targets = PublishTargets(results_dsn, None, None, tmp_path / "m.log", interval_key="k2")
    publish([corrupt_backup("a"), corrupt_backup("b")], targets)
    publish([corrupt_backup("a"), corrupt_backup("b")], targets)
    with connect(results_dsn) as conn:
        runs = latest_runs(conn, "backup_verify")
    assert sorted(r["interval_key"] for r in runs) == ["k2|database=a", "k2|database=b"]
    assert all(r["attempts"] == 2 for r in runs)


@pytest.fixture
def stoppable_store(stack_dir):
    """A results store on a PostgreSQL cluster of its own, which the test may stop and start."""
    import uuid

    from stack.postgres import PgCluster

    cluster = PgCluster.create(stack_dir / f"pg-{uuid.uuid4().hex[:8]}")
    cluster.start()
    dsn = cluster.create_database("results")
    from reliability.core.store import migrate

    migrate(dsn)
    yield cluster, dsn
    cluster.destroy()


def test_results_store_down_still_logs_pushes_and_posts_then_the_retry_stores(
    stoppable_store, pushgateway, slack_receiver, slack_conn, tmp_path
):
    cluster, dsn = stoppable_store
    cluster.stop()
    verified = Outcome(
        "backup_verify",
        {"database": "store_down"},
        "success",
        T0,
        T0 + timedelta(seconds=30),
        "Backup of store_down verified",
        metrics=(Metric("backup_verified", 1),),
        action="backup.verify",
    )
    targets = PublishTargets(
        dsn,
        PushgatewayConfig(pushgateway.url),
        SlackNotifier(),
        tmp_path / "m.log",
        interval_key="k-down",
        notify_success=False,
    )

    def store_rows(conn):  # the job's own rows, written in the same store step
        conn.execute("CREATE TABLE IF NOT EXISTS public.job_rows (database text)")
        conn.execute("INSERT INTO public.job_rows VALUES ('store_down')")

    with pytest.raises(
        PublishIncomplete, match=r"0 of 1 outcome\(s\) stored, 1 logged, 1 pushed.*results store"
    ):
        publish([verified], targets, store_rows)

    line = json.loads((tmp_path / "m.log").read_text())
    assert line["action"] == "backup.verify" and line["store_error"].startswith(
        "results store: OperationalError"
    )
    text = urllib.request.urlopen(f"{pushgateway.url}/metrics").read().decode()
    assert 'reliability_job_success{database="store_down",instance="",job="backup_verify"} 0' in text
    assert 'backup_verified{database="store_down",instance="",job="backup_verify"} 1' in text
    (message,) = slack_receiver.messages
    assert "store_down" in message["text"] and "not stored yet" in json.dumps(message["blocks"])

    cluster.start()  # the task's retry
    publish([verified], targets, store_rows)
    with connect(dsn) as conn:
        (run,) = latest_runs(conn, "backup_verify")
        assert conn.execute("SELECT database FROM public.job_rows").fetchall() == [("store_down",)]
    assert run["status"] == "success" and run["interval_key"] == "k-down|database=store_down"
    text = urllib.request.urlopen(f"{pushgateway.url}/metrics").read().decode()
    assert 'reliability_job_success{database="store_down",instance="",job="backup_verify"} 1' in text


def test_an_unreachable_store_is_named_without_its_password(tmp_path):
    dsn = f"postgresql://results:s3cretPassw0rd@127.0.0.1:{free_port()}/results"
    targets = PublishTargets(dsn, None, None, tmp_path / "m.log", interval_key="k")
    with pytest.raises(PublishIncomplete) as info:
        publish([corrupt_backup("unreachable")], targets)
    line = json.loads((tmp_path / "m.log").read_text())
    assert line["status"] == "failed" and "results store" in line["store_error"]
    assert "s3cretPassw0rd" not in str(info.value) + (tmp_path / "m.log").read_text()


def test_an_outcome_carries_nan_and_infinite_gauges_through_json():
    import math
    from datetime import UTC, datetime

    from reliability.core.outcome import Metric, Outcome

    now = datetime.now(UTC)
    outcome = Outcome(
        "performance_watchdog", {}, "success", now, now, "no data",
        metrics=(Metric("a_ratio", math.nan), Metric("b_seconds", math.inf), Metric("c_total", 3.0)),
    )  # fmt: skip
    back = Outcome.from_dict(json.loads(json.dumps(outcome.to_dict(), allow_nan=False)))
    values = {m.name: m.value for m in back.metrics}
    assert math.isnan(values["a_ratio"]) and values["b_seconds"] == math.inf and values["c_total"] == 3.0
