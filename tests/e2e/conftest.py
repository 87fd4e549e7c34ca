"""A whole local stack wired into Airflow, for ``airflow dags test`` runs of the real DAGs.

Built once per session from the root fixtures: the platform database (small scale), a migrated results
store, the backup bucket with demo uploads and builds, the Pushgateway, the Slack receiver and the fake
UptimeRobot, plus a migrated SQLite Airflow metadata database.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from stack.airflow import DagRunResult, Endpoints, dags_test, environment, migrate_metadata
from stack.fake_uptimerobot import FakeUptimeRobot, generate_dataset
from stack.platform import seed_platform, tenants_with_sites

BUCKET = "reliability-backups"
API_KEY = "u7654321-0123456789abcdef01234567"


class AirflowStack:
    def __init__(
        self,
        env: dict[str, str],
        pg_cluster,
        s3_client,
        pushgateway_url: str,
        slack,
        uptimerobot,
        results_dsn: str,
        platform_dsn: str,
        log_path: Path,
    ):
        self.env, self.pg, self.s3, self.pushgateway_url = env, pg_cluster, s3_client, pushgateway_url
        self.slack, self.uptimerobot = slack, uptimerobot
        self.results_dsn, self.platform_dsn, self.log_path = results_dsn, platform_dsn, log_path
        self.bucket = BUCKET
        self.uptimerobot_api_key = API_KEY

    def run(self, dag_id: str, conf: dict | None = None, logical_date: str | None = None) -> DagRunResult:
        return dags_test(self.env, dag_id, conf, logical_date, timeout=900)

    def runs(self, job: str) -> list[dict]:
        from reliability.core.store import connect, latest_runs

        with connect(self.results_dsn) as conn:
            return latest_runs(conn, job, limit=100)

    def metrics(self) -> str:
        return urllib.request.urlopen(f"{self.pushgateway_url}/metrics", timeout=10).read().decode()

    def log_lines(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]


@pytest.fixture(scope="session")
def airflow_stack(pg_cluster, s3_client, s3_server, pushgateway, slack_server, stack_dir):
    from reliability.core.store import migrate
    from stack.demo_builds import seed_demo_builds
    from stack.demo_uploads import seed_demo_uploads

    platform_dsn = pg_cluster.create_database("platform")
    seed_platform(platform_dsn, scale=0.05)
    results_dsn = pg_cluster.create_database("reliability_results")
    migrate(results_dsn)
    s3_client.create_bucket(Bucket=BUCKET)
    seed_demo_uploads(s3_client, BUCKET)
    seed_demo_builds(s3_client, BUCKET)
    uptimerobot = FakeUptimeRobot(generate_dataset(tenants_with_sites(platform_dsn)), API_KEY).start()
    home = stack_dir / "airflow"
    log_path = stack_dir / "logs" / "backup-monitor.log"
    env = environment(
        Endpoints(
            airflow_home=home,
            source_db_uri=pg_cluster.airflow_uri("platform"),
            scratch_db_uri=pg_cluster.airflow_uri("postgres"),
            results_db_uri=pg_cluster.airflow_uri("reliability_results"),
            s3_url=s3_server,
            bucket=BUCKET,
            pushgateway_port=int(pushgateway.url.rsplit(":", 1)[1]),
            slack_webhook_url=slack_server.url,
            uptimerobot_url=uptimerobot.url.removesuffix("/v2"),
            uptimerobot_api_key=API_KEY,
            api_port=8080,
            log_path=log_path,
        )
    )
    env["RELIABILITY_TASK_RETRIES"] = "0"
    migrate_metadata(env)
    yield AirflowStack(
        env,
        pg_cluster,
        s3_client,
        pushgateway.url,
        slack_server,
        uptimerobot,
        results_dsn,
        platform_dsn,
        log_path,
    )
    uptimerobot.stop()


# Prometheus (scraping this session's Pushgateway, with the shipped rules) and Alertmanager (routed to the
# Slack receiver): the real-job alert test uses them.
from tests.monitoring.conftest import alertmanager_server, prometheus_server, smtp_sink  # noqa: E402,F401


@pytest.fixture(scope="session")
def nightly_backup(airflow_stack):
    """One real backup_verify run: the dump the checksum and restore jobs then work on."""
    result = airflow_stack.run("backup_verify")
    assert result.succeeded, result.output[-5000:]
    return result
