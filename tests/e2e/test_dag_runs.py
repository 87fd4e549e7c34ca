"""Every DAG, run for real through Airflow (``airflow dags test`` on a migrated metadata DB) on the local
stack: real PostgreSQL and pg_dump, the S3 API, the Pushgateway, the Slack receiver, the UptimeRobot fake."""

from __future__ import annotations

import json
import re

from tests.monitoring.alert_delivery import assert_alert_delivered


def gauge(metrics: str, name: str, **labels: str) -> float | None:
    """The value of the first series of ``name`` whose labels include ``labels``."""
    for line in metrics.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def gauge_sum(metrics: str, name: str, **labels: str) -> float:
    """The sum of every series of ``name`` whose labels include ``labels`` (e.g. over checksum sources)."""
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith(name + "{"):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
    return total


def test_sla_uptime_reports_breaches_to_store_gateway_and_slack(airflow_stack):
    airflow_stack.slack.clear()
    result = airflow_stack.run("sla_uptime")
    assert result.succeeded, result.output[-4000:]
    (run,) = airflow_stack.runs("sla_uptime")
    assert run["summary"]["tenants"] > 0 and run["summary"]["breaches"], run["summary"]
    breached = run["summary"]["breaches"][0]
    metrics = airflow_stack.metrics()
    assert gauge(metrics, "sla_breach", job="sla_uptime", tenant=breached) == 1
    uptime = gauge(metrics, "sla_uptime_ratio", job="sla_uptime", tenant=breached)
    target = gauge(metrics, "sla_target_ratio", job="sla_uptime", tenant=breached)
    assert uptime is not None and target is not None and uptime < target
    assert any("breached" in m["text"] for m in airflow_stack.slack.messages)
    assert any(line["action"] == "sla.report" for line in airflow_stack.log_lines())
    # The API key is a secret: not in the task output, the log file or Slack.
    assert airflow_stack.uptimerobot_api_key not in result.output
    assert airflow_stack.uptimerobot_api_key not in airflow_stack.log_path.read_text()


def test_sla_uptime_refuses_a_malformed_month_param(airflow_stack):
    result = airflow_stack.run("sla_uptime", conf={"month": "2026-13"})
    assert not result.succeeded
    assert "2026-13" in result.output and "does not match" in result.output


def test_build_size_watchdog_flags_the_bundle_over_budget(airflow_stack):
    airflow_stack.slack.clear()
    result = airflow_stack.run("build_size_watchdog", conf={"app": "web"})
    assert result.succeeded, result.output[-4000:]
    runs = airflow_stack.runs("build_size_watchdog")
    assert runs and runs[0]["status"] == "warning", runs
    metrics = airflow_stack.metrics()
    over = [
        line
        for line in metrics.splitlines()
        if line.startswith("build_size_over_budget{") and line.endswith(" 1")
    ]
    assert over, "one demo bundle grows past its budget"
    assert airflow_stack.slack.messages, "a broken budget is posted to Slack"


def test_backup_verify_dumps_verifies_and_publishes(airflow_stack, nightly_backup):
    from reliability.backups.manifest import Manifest

    runs = [r for r in airflow_stack.runs("backup_verify") if r["summary"].get("verdict") == "verified"]
    assert runs, airflow_stack.runs("backup_verify")
    keys = [
        o["Key"]
        for o in airflow_stack.s3.list_objects_v2(Bucket=airflow_stack.bucket, Prefix="backups/platform/")[
            "Contents"
        ]
    ]
    manifests = [k for k in keys if k.endswith(".manifest.json")]
    assert manifests and manifests[0].removesuffix(".manifest.json") in keys
    manifest = Manifest.from_json(
        airflow_stack.s3.get_object(Bucket=airflow_stack.bucket, Key=manifests[0])["Body"].read()
    )
    assert manifest.verdict == "verified"
    with airflow_stack.pg.connect("platform") as conn:
        tenants = conn.execute("SELECT count(*) FROM tenants").fetchone()[0]
    assert manifest.tables["public.tenants"].rows == tenants
    metrics = airflow_stack.metrics()
    assert gauge(metrics, "backup_verified", job="backup_verify", database="platform") == 1
    assert (
        gauge(metrics, "backup_size_bytes", job="backup_verify", database="platform") == manifest.size_bytes
    )
    assert (
        gauge(
            metrics,
            "reliability_job_last_success_timestamp_seconds",
            job="backup_verify",
            database="platform",
        )
        is not None
    )
    assert any(
        line["action"] == "backup.verify" and line["status"] == "success"
        for line in airflow_stack.log_lines()
    )
    # The database password never reaches Airflow's task output.
    assert airflow_stack.pg.password not in nightly_backup.output


def test_corrupt_dump_fails_the_run_and_the_alert_reaches_slack(
    airflow_stack, prometheus_server, nightly_backup
):
    good_key = next(
        o["Key"]
        for o in airflow_stack.s3.list_objects_v2(Bucket=airflow_stack.bucket, Prefix="backups/platform/")[
            "Contents"
        ]
        if o["Key"].endswith(".dump")
    )
    data = airflow_stack.s3.get_object(Bucket=airflow_stack.bucket, Key=good_key)["Body"].read()
    corrupt_key = "backups/platform/manual/truncated.dump"
    airflow_stack.s3.put_object(Bucket=airflow_stack.bucket, Key=corrupt_key, Body=data[: len(data) // 2])
    airflow_stack.slack.clear()
    result = airflow_stack.run("backup_verify", conf={"verify_only_key": corrupt_key})
    assert not result.succeeded
    latest = airflow_stack.runs("backup_verify")[0]
    assert latest["status"] == "failed" and latest["summary"]["verdict"] == "corrupt", latest["summary"]
    assert gauge(airflow_stack.metrics(), "backup_verified", job="backup_verify", database="platform") == 0
    # The job's own Slack message, then Prometheus evaluates the shipped rules and Alertmanager routes it.
    assert any("corrupt" in json.dumps(m) for m in airflow_stack.slack.messages)
    assert_alert_delivered(
        prometheus_server.url,
        airflow_stack.slack,
        "BackupNotVerified",
        {"job": "backup_verify", "database": "platform"},
        timeout=60,
    )


def test_rerun_of_the_same_interval_replaces_its_rows(airflow_stack):
    for _ in range(2):
        result = airflow_stack.run("sla_uptime", logical_date="2026-11-20T00:00:00+00:00")
        assert result.succeeded, result.output[-3000:]
    matching = [
        r
        for r in airflow_stack.runs("sla_uptime")
        if r["interval_key"].startswith("2026-11-19T00:00:00+00:00/2026-11-20")
    ]
    assert len(matching) == 1 and matching[0]["attempts"] == 2, matching


def test_restore_test_restores_the_nightly_backup_and_cleans_up(airflow_stack, nightly_backup):
    airflow_stack.slack.clear()
    result = airflow_stack.run("restore_test")
    assert result.succeeded, result.output[-5000:]
    latest = airflow_stack.runs("restore_test")[0]
    assert latest["status"] in ("success", "warning"), latest["summary"]
    metrics = airflow_stack.metrics()
    assert gauge(metrics, "restore_success", job="restore_test", database="platform") == 1
    assert gauge(metrics, "restore_rows_mismatched", job="restore_test", database="platform") == 0
    assert gauge(metrics, "restore_expectations_failed", job="restore_test", database="platform") == 0
    assert gauge(metrics, "restore_duration_seconds", job="restore_test", database="platform") > 0
    with airflow_stack.pg.connect() as conn:
        leftovers = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'restore_test_%'"
        ).fetchall()
    assert leftovers == [], "the scratch database is dropped whatever happened"
    assert any(line["action"] == "restore.test" for line in airflow_stack.log_lines())


def test_checksum_validation_checks_backups_and_uploads_and_flags_corruption(airflow_stack, nightly_backup):
    s3, bucket = airflow_stack.s3, airflow_stack.bucket
    uploads = [o for o in s3.list_objects_v2(Bucket=bucket, Prefix="uploads/")["Contents"] if o["Size"] > 0]
    # An upload whose checksum is recorded in its user metadata (the demo seeds some).
    key, expected = next(
        (o["Key"], meta["sha256"])
        for o in uploads
        if "sha256" in (meta := s3.head_object(Bucket=bucket, Key=o["Key"])["Metadata"])
    )
    result = airflow_stack.run("checksum_validation", conf={"full": True})
    assert result.succeeded, result.output[-5000:]
    metrics = airflow_stack.metrics()
    assert gauge_sum(metrics, "checksum_objects", job="checksum_validation", result="ok") >= 2, (
        "a backup and uploads"
    )
    assert gauge_sum(metrics, "checksum_objects", job="checksum_validation", result="mismatch") == 0
    assert gauge(metrics, "checksum_verified_bytes", job="checksum_validation") > 0
    assert airflow_stack.runs("checksum_validation")[0]["status"] == "success"

    # Same size, different bytes, the same recorded sha256 metadata: S3's new CRC32 and ETag match the new
    # bytes, the metadata does not; the sources disagree (verdict `conflict`, never verified).
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(
        Bucket=bucket, Key=key, Body=bytes([body[0] ^ 0xFF]) + body[1:], Metadata={"sha256": expected}
    )
    airflow_stack.slack.clear()
    airflow_stack.run("checksum_validation", conf={"full": True})
    metrics = airflow_stack.metrics()
    assert gauge_sum(metrics, "checksum_objects", job="checksum_validation", result="conflict") == 1
    assert any(key in json.dumps(m, ensure_ascii=False) for m in airflow_stack.slack.messages), (
        key,
        airflow_stack.slack.messages,
    )
    assert key in airflow_stack.runs("checksum_validation")[0]["summary"]["first_conflict"]
