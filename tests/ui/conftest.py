"""A real Airflow api-server with the SLA reports plugin, and headless Chromium to drive its UI.

The api-server runs as in production (``python -m airflow api-server``) against a migrated SQLite
metadata database in a temporary AIRFLOW_HOME, with the repository's plugins and dags folders, the
SimpleAuthManager with a known user (admin/admin), and every connection as an ``AIRFLOW_CONN_*``
variable pointing at the session's real servers (PostgreSQL, moto S3, Pushgateway, fake Slack); the
results store it reads holds SLA reports saved by the SLA job's own ``save_report``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from stack.airflow import Endpoints, environment, migrate_metadata, run_airflow
from stack.processes import free_port, start_process, stop_pid
from tests.browser import chromium_driver
from tests.ui.sla_seed import seed_sla_reports

ROOT = Path(__file__).resolve().parents[2]
# the api-server puts the plugins folder on sys.path; the in-process tests of the plugin's modules do the same
if str(ROOT / "plugins") not in sys.path:
    sys.path.append(str(ROOT / "plugins"))
ARTIFACTS = ROOT / "test-artifacts" / "ui"
USERNAME = PASSWORD = "admin"
BUCKET = "reliability-ui-backups"
UPTIMEROBOT_API_KEY = "u1234567-ui0000000000000000000000"
# uvicorn stops at once on SIGTERM, but the api-server process then takes ~9 s more to exit; its metadata
# database is thrown away, so it is killed after a short grace
STOP_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class SlaStore:
    dsn: str
    airflow_uri: str


@pytest.fixture(scope="session")
def sla_store(pg_cluster):
    """A migrated results store holding the seeded SLA reports (see ``sla_seed``)."""
    from reliability.core.store import migrate

    name = f"ui_results_{uuid.uuid4().hex[:10]}"
    dsn = pg_cluster.create_database(name)
    migrate(dsn)
    seed_sla_reports(dsn)
    yield SlaStore(dsn, pg_cluster.airflow_uri(name))
    pg_cluster.drop_database(name)


@dataclass(frozen=True)
class AirflowApi:
    url: str
    env: dict[str, str]
    home: Path

    def token(self, username: str = USERNAME, password: str = PASSWORD) -> str:
        answer = requests.post(
            f"{self.url}/auth/token", json={"username": username, "password": password}, timeout=10
        )
        answer.raise_for_status()
        return answer.json()["access_token"]

    def get(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(f"{self.url}{path}", headers=headers, allow_redirects=False, timeout=20, **kwargs)


@pytest.fixture(scope="session")
def airflow_api(pg_cluster, sla_store, s3_server, s3_client, pushgateway, slack_server):
    home = Path(tempfile.mkdtemp(prefix="airflow-ui-"))
    port = free_port()
    source = f"ui_platform_{uuid.uuid4().hex[:10]}"
    pg_cluster.create_database(source)
    s3_client.create_bucket(Bucket=BUCKET)
    env = environment(
        Endpoints(
            airflow_home=home,
            source_db_uri=pg_cluster.airflow_uri(source),
            scratch_db_uri=pg_cluster.airflow_uri("postgres"),
            results_db_uri=sla_store.airflow_uri,
            s3_url=s3_server,
            bucket=BUCKET,
            pushgateway_port=int(pushgateway.url.rsplit(":", 1)[1]),
            # no UptimeRobot stand-in runs here: nothing the page or the trigger form does calls it
            slack_webhook_url=slack_server.url,
            uptimerobot_url="http://127.0.0.1:9",
            uptimerobot_api_key=UPTIMEROBOT_API_KEY,
            api_port=port,
            log_path=home / "backup-monitor.log",
        )
    )
    # one secret for every Airflow process of the session (tokens signed by one are checked by the others)
    env["AIRFLOW__API_AUTH__JWT_SECRET"] = secrets.token_hex(32)
    (home / "passwords.json").write_text(f'{{"{USERNAME}": "{PASSWORD}"}}\n')
    proc = None
    try:
        migrate_metadata(env)
        with ThreadPoolExecutor(1) as pool:
            # the api-server needs only the migrated database: parse the DAGs into it while the server starts
            reserialize = pool.submit(run_airflow, env, "dags", "reserialize", timeout=300)
            proc = start_process(
                "api-server",
                [
                    sys.executable,
                    "-m",
                    "airflow",
                    "api-server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    "1",
                ],
                home,
                port,
                env={**os.environ, **env},
                timeout=90,
            )
            reserialized = reserialize.result()
        if reserialized.returncode != 0:
            raise RuntimeError(
                f"airflow dags reserialize failed:\n{reserialized.stdout[-3000:]}\n"
                f"{reserialized.stderr[-3000:]}"
            )
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, home / "api-server.log")
        yield AirflowApi(url, env, home)
    finally:
        if proc is not None:
            stop_pid(proc.pid, timeout=STOP_GRACE_SECONDS)
        pg_cluster.drop_database(source)
        shutil.rmtree(home, ignore_errors=True)


def _wait_healthy(url: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise TimeoutError(
        f"api-server at {url} not healthy within {timeout:.0f}s; its log:\n{log.read_text()[-4000:]}"
    )


@pytest.fixture(scope="session")
def api_token(airflow_api) -> str:
    return airflow_api.token()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium(airflow_api):
    """Headless Debian Chromium; depends on ``airflow_api`` so that it quits before the server stops."""
    with chromium_driver() as driver:
        yield driver


@pytest.fixture
def browser(chromium, airflow_api):
    """The session's Chromium, logged out (no cookies, no downloads) at the start of each test."""
    chromium.get(f"{airflow_api.url}/api/v2/monitor/health")
    chromium.delete_all_cookies()
    for leftover in chromium.downloads.iterdir():
        leftover.unlink()
    return chromium


@pytest.fixture
def client_for():
    """An in-process client of the plugin app reading the results store at the DSN given."""
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.testclient import TestClient
    from sla_reports.app import create_app

    def build(dsn: str) -> TestClient:
        app = create_app(dsn_source=lambda: dsn)
        app.dependency_overrides[get_user] = lambda: object()  # authentication is the api-server tests' part
        return TestClient(app)

    return build


def pdf_text(content: bytes, path: Path) -> str:
    """The words of a PDF as ``pdftotext`` (poppler-utils) reads them, whitespace collapsed (a table cell
    may wrap a phrase over two lines)."""
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, (
        "pdftotext is not installed (apt-get install poppler-utils; scripts/bootstrap.sh does it)"
    )
    path.write_bytes(content)
    text = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())
