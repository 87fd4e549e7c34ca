"""The run a task belongs to, as the library needs it: the interval key, the logical date, the UI link."""

from __future__ import annotations

import os
from typing import Any


def run_url(context: dict[str, Any]) -> str | None:
    """Link to the run in the Airflow UI (``[api] base_url``)."""
    from urllib.parse import quote

    ti = context.get("ti")
    if ti is None:
        return None
    return f"{ui_base_url()}/dags/{quote(ti.dag_id)}/runs/{quote(ti.run_id)}"


def ui_base_url() -> str:
    """The Airflow UI's address (``[api] base_url``), for links in Slack."""
    base = os.environ.get("AIRFLOW__API__BASE_URL")
    if not base:
        try:
            from airflow.configuration import conf

            base = conf.get("api", "base_url", fallback="http://localhost:8080")
        except Exception:
            base = "http://localhost:8080"
    return base.rstrip("/")


def interval_key(context: dict[str, Any]) -> str:
    """A stable key of the run's data interval, so a rerun of the same interval replaces its rows.

    Scheduled runs have a data interval; a manual run without one is keyed by its run id.
    """
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None and end is not None:
        return f"{start.isoformat()}/{end.isoformat()}"
    logical = context.get("logical_date")
    if logical is not None:
        return logical.isoformat()
    return str(context["run_id"])


def current_context_info() -> dict[str, Any]:
    from airflow.sdk import get_current_context

    context = get_current_context()
    params = context.get("params") or {}
    return {
        "interval_key": interval_key(context),
        "logical_date": context.get("logical_date"),
        "run_url": run_url(context),
        "notify_success": params.get("notify_success", True),
    }
