"""``sla_uptime`` through Airflow (``airflow dags test`` on the e2e stack) with the ``uptimerobot``
connection on API v3: it runs, stores the report the v2 connection stores, and no secret reaches the
task output, the log file, XCom or the results store."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from reliability.sla.period import Period
from stack.airflow import dags_test
from tests.e2e.conftest import airflow_stack  # noqa: F401  (the e2e session's stack)
from tests.sla.test_sla_v3 import TOKEN, stored

pytestmark = pytest.mark.slow


def test_sla_uptime_on_api_v3_stores_the_v2_report_and_leaks_no_secret(airflow_stack):  # noqa: F811
    stack, fake = airflow_stack, airflow_stack.uptimerobot
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    logical_date = (today - timedelta(days=1)).isoformat()
    period = Period.reported_by_run_ending(today).key
    v2 = json.loads(stack.env["AIRFLOW_CONN_UPTIMEROBOT"])
    v3 = {**v2, "password": TOKEN, "extra": {"api_version": 3, "v2_api_key": stack.uptimerobot_api_key}}
    fake.v3_token = TOKEN
    try:
        result_v2 = dags_test(stack.env, "sla_uptime", logical_date=logical_date, timeout=900)
        assert result_v2.succeeded, result_v2.output[-4000:]
        report_v2 = stored(stack.results_dsn, period)
        fake.reset()
        env = {**stack.env, "AIRFLOW_CONN_UPTIMEROBOT": json.dumps(v3)}
        result = dags_test(env, "sla_uptime", logical_date=logical_date, timeout=900)
        assert result.succeeded, result.output[-4000:]
        assert fake.count("v3/monitors") >= 1 and fake.count("v3/incidents") >= 1
        assert fake.count("getMonitors") >= 1  # v2, for what v3 lacks
    finally:
        fake.v3_token = stack.uptimerobot_api_key
    assert stored(stack.results_dsn, period) == report_v2
    secrets = (TOKEN, stack.uptimerobot_api_key)
    assert not any(s in result.output for s in secrets)
    assert not any(s in stack.log_path.read_text() for s in secrets)
    metadata = stack.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(metadata) as db:
        xcom = " ".join(str(row) for row in db.execute("SELECT value FROM xcom"))
    assert "sla_uptime" in xcom and not any(s in xcom for s in secrets)
    with psycopg.connect(stack.results_dsn) as conn:
        rows = " ".join(
            str(r) for r in conn.execute("SELECT * FROM reliability.runs WHERE job = 'sla_uptime'")
        )
        rows += " ".join(str(r) for r in conn.execute("SELECT * FROM reliability.sla_reports"))
    assert rows and not any(s in rows for s in secrets)
