import json

from reliability.adapters.jsonlog import log_event


def test_lines_follow_the_platform_format_and_carry_job_fields(tmp_path):
    path = tmp_path / "backup-monitor.log"
    log_event(
        path,
        action="backup.verify",
        status="success",
        duration_ms=1530,
        tenant="t5g",
        site="123",
        database="platform",
        size_bytes=42,
    )
    log_event(path, action="restore.test", status="failed", level="error")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 2
    first = lines[0]
    assert list(first)[:7] == ["timestamp", "level", "tenant", "site", "action", "durationMs", "status"]
    assert first["tenant"] == "t5g" and first["durationMs"] == 1530 and first["database"] == "platform"
    assert first["timestamp"].endswith("Z")
    assert lines[1]["level"] == "error" and lines[1]["tenant"] is None


def test_secrets_and_personal_data_are_scrubbed(tmp_path):
    path = tmp_path / "backup-monitor.log"
    log_event(
        path,
        action="backup.verify",
        status="failed",
        error="connect to postgresql://backup:hunter2pw@db.internal:5432/platform failed",
        api_key="u123456-abcdef",
        details={
            "webhook_url": "https://hooks.slack.com/services/T0/B0/XYZ",
            "contact": "jane.doe@customer.com",
            "note": "token=abc123",
        },
    )
    text = path.read_text()
    for secret in ("hunter2pw", "u123456-abcdef", "T0/B0/XYZ", "jane.doe", "abc123"):
        assert secret not in text
    record = json.loads(text)
    assert record["api_key"] == "[REDACTED]"
    assert "postgresql://backup:[REDACTED]@db.internal" in record["error"]
    assert record["details"]["contact"] == "j***@customer.com"
