"""Publishing from a DAG task: the standard connections resolved from Airflow, then :func:`core.publish.publish`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from reliability.core.outcome import Outcome
from reliability.core.publish import DEFAULT_LOG_PATH, PublishTargets, publish


def publish_outcomes(outcomes: list[dict], store_rows: Callable[[Any], None] | None = None) -> dict:
    """The DAG side: resolve the standard connections from Airflow and publish (call from a task).

    ``store_rows(conn)``: a job's own results-store rows, written in the store step (see
    :func:`reliability.core.publish.publish`), so a store that is down never silences the other channels.
    """
    from reliability.airflow import connections
    from reliability.airflow.context import current_context_info
    from reliability.airflow.slack import SlackNotifier

    info = current_context_info()
    targets = PublishTargets(
        results_dsn=connections.postgres_dsn("reliability_results_db"),
        pushgateway=connections.pushgateway_config("reliability_pushgateway"),
        slack=SlackNotifier("reliability_slack") if connections.exists("reliability_slack") else None,
        log_path=os.environ.get("RELIABILITY_LOG_PATH", DEFAULT_LOG_PATH),
        interval_key=info["interval_key"],
        logical_date=info["logical_date"],
        run_url=info["run_url"],
        notify_success=info.get("notify_success", True),
    )
    return publish([Outcome.from_dict(o) for o in outcomes], targets, store_rows).as_dict()
