"""Publish job outcomes: results store first, then the JSON-lines log, Pushgateway and Slack.

The order is what makes a result impossible to lose: it is stored (and logged) before anything that
talks to a less essential system. No channel being down silences the others: a failed store, push or
Slack call is recorded (in the run's summary when the store works, in the log line when it does not)
and raised at the end as :class:`PublishIncomplete`, so the Airflow task shows it and retries it (a
rerun of the same interval is idempotent everywhere). While the results store is down, the job counts
as failed on the Pushgateway (``reliability_job_success 0``) and Slack says the result is not stored
yet; the retry stores it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from reliability.adapters.jsonlog import log_event
from reliability.adapters.pushgateway import PushgatewayConfig, push_metrics
from reliability.core.outcome import Metric, Outcome
from reliability.core.scrub import scrub_text
from reliability.core.slack import outcome_blocks

log = logging.getLogger(__name__)
DEFAULT_LOG_PATH = "backup-monitor.log"
STORE_CONNECT_TIMEOUT = 10  # seconds: an unreachable store must not hold up the log, push and Slack
_LOG_RESERVED = {"path", "action", "status", "duration_ms", "level", "timestamp"}


class Notifier(Protocol):
    """Sends one Slack message (``reliability.airflow.slack.SlackNotifier`` in a DAG, a fake in tests)."""

    def send(self, text: str, blocks: list[dict] | None = None) -> None: ...


class PublishIncomplete(RuntimeError):
    """The outcome is stored, but at least one notification channel failed."""


@dataclass(frozen=True)
class PublishTargets:
    results_dsn: str | None
    pushgateway: PushgatewayConfig | None
    slack: Notifier | None
    log_path: str | Path = DEFAULT_LOG_PATH
    interval_key: str = ""
    logical_date: datetime | None = None
    run_url: str | None = None
    notify_success: bool = True  # the daily/weekly success line; failures and alerts are always sent


@dataclass
class PublishReport:
    stored: int = 0
    logged: int = 0
    pushed: int = 0
    slack_sent: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "stored": self.stored,
            "logged": self.logged,
            "pushed": self.pushed,
            "slack_sent": self.slack_sent,
            "errors": list(self.errors),
        }


def job_metrics(outcome: Outcome, stored: bool = True) -> list[Metric]:
    """The metrics every job pushes, plus the outcome's own; a run whose result is not stored failed."""
    finished = outcome.finished_at.timestamp()
    succeeded = outcome.succeeded and stored
    common = [
        Metric("reliability_job_last_run_timestamp_seconds", finished, documentation="End of the last run"),
        Metric(
            "reliability_job_success",
            1.0 if succeeded else 0.0,
            documentation="1 if the last run succeeded, else 0",
        ),
        Metric(
            "reliability_job_duration_seconds",
            outcome.duration_seconds,
            documentation="Duration of the last run",
        ),
    ]
    if succeeded:
        common.append(
            Metric(
                "reliability_job_last_success_timestamp_seconds",
                finished,
                documentation="End of the last successful run",
            )
        )
    return common + list(outcome.metrics)


def _compact(summary: dict, limit: int = 500) -> dict:
    """The summary for a log line: values whose JSON is longer than ``limit`` stay in the results store."""
    import json

    return {k: v for k, v in summary.items() if len(json.dumps(v, default=str)) <= limit}


def _run_key(targets: PublishTargets, outcome: Outcome) -> str:
    """The runs table key: the run's interval, plus the subject where one run covers several."""
    subject = ",".join(f"{k}={v}" for k, v in sorted(outcome.subject.items()))
    key = targets.interval_key + (f"|{subject}" if subject else "")
    return key or outcome.finished_at.isoformat()


def publish(
    outcomes: list[Outcome], targets: PublishTargets, store_rows: Callable[[Any], None] | None = None
) -> PublishReport:
    """Store, log, push and notify; ``store_rows(conn)`` writes a job's own results-store rows in the
    store step, so a store that is down is handled (and retried) the same way for them."""
    report = PublishReport()
    if not outcomes:
        return report
    store_error = ""
    if targets.results_dsn:
        try:
            _store(outcomes, targets, report, store_rows)
        except Exception as exc:  # the store being down must not silence the log, the push or Slack
            store_error = f"results store: {describe_store_error(exc, targets.results_dsn)}"
            report.errors.append(store_error)
    stored = not store_error
    for outcome in outcomes:
        try:
            fields = {
                "job": outcome.job,
                **outcome.subject,
                "headline": outcome.headline,
                **outcome.log_fields,
                "summary": _compact(outcome.summary),
            }
            if store_error:
                fields["store_error"] = store_error
            fields = {k: v for k, v in fields.items() if k not in _LOG_RESERVED}
            log_event(
                targets.log_path,
                action=outcome.action or outcome.job,
                status=outcome.status,
                duration_ms=int(outcome.duration_seconds * 1000),
                level="error" if outcome.status == "failed" else ("warn" if outcome.alert else "info"),
                timestamp=outcome.finished_at,
                **fields,
            )
            report.logged += 1
        except OSError as exc:
            report.errors.append(f"log {targets.log_path}: {exc}")
    if targets.pushgateway:
        for outcome in outcomes:
            try:
                push_metrics(targets.pushgateway, outcome.job, outcome.subject, job_metrics(outcome, stored))
                report.pushed += 1
            except Exception as exc:  # every failure is reported below; one subject must not stop the next
                report.errors.append(str(exc))
    if targets.slack:
        to_send = [
            o for o in outcomes if o.alert or o.status != "success" or targets.notify_success or store_error
        ]
        if to_send:
            if store_error:
                note = ("Results store", f"not stored yet ({store_error}); the task retries")
                to_send = [replace(o, facts=(*o.facts, note)) for o in to_send]
            text, blocks = outcome_blocks(to_send, targets.run_url)
            try:
                targets.slack.send(text, blocks)
                report.slack_sent = True
            except Exception as exc:
                report.errors.append(str(exc))
    if report.errors:
        for error in report.errors:
            log.error("publish: %s", error)
        if targets.results_dsn and stored:
            _record_publish_errors(outcomes, targets, report.errors)
        raise PublishIncomplete(
            f"{report.stored} of {len(outcomes)} outcome(s) stored, {report.logged} logged, "
            f"{report.pushed} pushed; publishing failed: " + "; ".join(report.errors)
        )
    return report


def describe_store_error(exc: Exception, dsn: str) -> str:
    """The store failure in one line, without the DSN's password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        password = conninfo_to_dict(dsn).get("password")
    except Exception:
        password = None
    message = " ".join(str(exc).split()) or "no message"
    return f"{type(exc).__name__}: {scrub_text(message, [password, dsn])}"[:500]


def _store(
    outcomes: list[Outcome],
    targets: PublishTargets,
    report: PublishReport,
    store_rows: Callable[[Any], None] | None,
) -> None:
    from reliability.core.store import RunRecord, connect, record_run

    with connect(targets.results_dsn, connect_timeout=STORE_CONNECT_TIMEOUT) as conn:
        if store_rows is not None:
            store_rows(conn)
            conn.commit()
        for outcome in outcomes:
            record_run(
                conn,
                RunRecord(
                    job=outcome.job,
                    interval_key=_run_key(targets, outcome),
                    status=outcome.status,
                    started_at=outcome.started_at,
                    finished_at=outcome.finished_at,
                    summary={"headline": outcome.headline, "subject": outcome.subject, **outcome.summary},
                    logical_date=targets.logical_date,
                ),
            )
            report.stored += 1


def _record_publish_errors(outcomes: list[Outcome], targets: PublishTargets, errors: list[str]) -> None:
    from psycopg.types.json import Jsonb

    from reliability.core.store import connect

    try:
        with connect(targets.results_dsn, connect_timeout=STORE_CONNECT_TIMEOUT) as conn:
            for outcome in outcomes:
                conn.execute(
                    "UPDATE reliability.runs SET summary = summary || %s WHERE job = %s AND interval_key = %s",
                    (Jsonb({"publish_errors": errors}), outcome.job, _run_key(targets, outcome)),
                )
            conn.commit()
    except Exception as exc:
        log.error("could not record publish errors in the results store: %s", type(exc).__name__)
