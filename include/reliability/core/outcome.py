"""What every job hands to publishing: one outcome per subject (database, app, period...).

Jobs compute; :mod:`reliability.core.publish` stores, pushes, notifies and logs. Keeping the outcome a plain
frozen value means a failed push or Slack call can never lose it: it is stored first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STATUSES = ("success", "warning", "failed")


@dataclass(frozen=True)
class Metric:
    """One Prometheus gauge sample, in base units (``_seconds``, ``_bytes``, ``_ratio``)."""

    name: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)
    documentation: str = ""


@dataclass(frozen=True)
class Outcome:
    job: str  # the DAG id, also the Pushgateway ``job`` label and the runs table's job
    subject: dict[str, str]  # extra grouping labels, e.g. {"database": "platform"}; may be empty
    status: str  # success | warning | failed
    started_at: datetime
    finished_at: datetime
    headline: str  # one line for Slack and the log, e.g. "Backup of platform verified"
    summary: dict[str, Any] = field(default_factory=dict)  # small, JSON-safe, no secrets
    facts: tuple[tuple[str, str], ...] = ()  # the few figures that matter, for Slack
    metrics: tuple[Metric, ...] = ()
    alert: bool = False  # notify Slack now (failure, breach); otherwise only the success line/digest
    action: str = ""  # backup-monitor.log action, e.g. "backup.verify"
    log_fields: dict[str, Any] = field(default_factory=dict)  # tenant, site, ... where they apply
    detail: str = ""  # longer mrkdwn shown full width in Slack (e.g. a delta table); not logged

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def succeeded(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form, for XCom between the compute and publish tasks."""
        return {
            "job": self.job,
            "subject": dict(self.subject),
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "headline": self.headline,
            "summary": self.summary,
            "facts": [list(f) for f in self.facts],
            "metrics": [
                {
                    "name": m.name,
                    "value": _json_number(m.value),
                    "labels": m.labels,
                    "documentation": m.documentation,
                }
                for m in self.metrics
            ],
            "alert": self.alert,
            "action": self.action,
            "log_fields": self.log_fields,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        return cls(
            job=data["job"],
            subject=dict(data["subject"]),
            status=data["status"],
            started_at=datetime.fromisoformat(data["started_at"]),
            finished_at=datetime.fromisoformat(data["finished_at"]),
            headline=data["headline"],
            summary=data.get("summary", {}),
            facts=tuple(tuple(f) for f in data.get("facts", ())),
            metrics=tuple(Metric(**{**m, "value": float(m["value"])}) for m in data.get("metrics", ())),
            alert=data.get("alert", False),
            action=data.get("action", ""),
            log_fields=data.get("log_fields", {}),
            detail=data.get("detail", ""),
        )


def _json_number(value: float) -> float | str:
    """A gauge value JSON can carry: NaN ("no data") and infinities as "nan"/"inf"/"-inf", which
    ``float()`` reads back (XCom is JSON and refuses the bare tokens)."""
    return value if math.isfinite(value) else str(float(value))
