"""One module per DAG (named after its dag id): Airflow context and connections in, the job's ``run``,
JSON-safe outcomes out. What every job's last task does is :func:`check_outcomes`."""

from __future__ import annotations

from typing import Any


def check_outcomes(outcomes: list[dict[str, Any]]) -> str:
    """Fail the run (without retries: the verdict would not change) when any outcome failed."""
    if isinstance(outcomes, dict):
        outcomes = [outcomes]
    failed = [o["headline"] for o in outcomes if o and o.get("status") == "failed"]
    if failed:
        from reliability.airflow.errors import JobFailed

        raise JobFailed("; ".join(failed))
    return "; ".join(o["headline"] for o in outcomes if o) or "nothing to check"
