"""What the operate tests share besides fixtures: the project's DAGs, where probes and artifacts live, run links."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
PROBE_DAGS = Path(__file__).resolve().parent / "dags"
ARTIFACTS = ROOT / "test-artifacts" / "operate"
# The jobs in the order a user would first run them: the checksum and restore jobs read the backup.
PROJECT_DAGS = ("backup_verify", "checksum_validation", "restore_test", "sla_uptime", "build_size_watchdog")


def existing_project_dags() -> list[str]:
    return [dag_id for dag_id in PROJECT_DAGS if (ROOT / "dags" / f"{dag_id}.py").exists()]


def run_link(base_url: str, dag_id: str, run_id: str) -> str:
    """The run's address in the UI, as the jobs and callbacks link it."""
    return f"{base_url}/dags/{quote(dag_id)}/runs/{quote(run_id)}"
