"""What a restore test carries from step to step: its settings and its :class:`RunState`.

The DAG runs one step per task and passes the state through XCom (it is small, JSON-safe and holds no
secret: connection strings are rebuilt from :class:`Settings` in every task).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from reliability.restore.choose import ChosenBackup
from reliability.restore.config import RestoreConfig
from reliability.restore.errors import CheckFailed

STEPS = ("choose_backup", "download_and_check", "create_scratch_database", "restore", "validate")


@dataclass(frozen=True)
class Settings:
    """Configuration plus the resolved connections; the connection strings never leave this object."""

    config: RestoreConfig
    scratch_dsn: str = field(repr=False)
    source_dsn: str = field(repr=False)
    s3: Any = field(repr=False)
    bucket: str = ""
    results_dsn: str | None = field(default=None, repr=False)

    @property
    def download_dir(self) -> Path:
        return Path(self.config.download_dir or Path(tempfile.gettempdir()) / "restore_test")

    def scratch_target(self, name: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.scratch_dsn, dbname=name)


@dataclass(frozen=True)
class Failure:
    step: str
    check: str
    message: str
    table: str | None = None

    @classmethod
    def from_error(cls, exc: CheckFailed, step: str) -> Failure:
        return cls(step=step, check=exc.check, message=exc.message, table=exc.table)


@dataclass(frozen=True)
class RunState:
    database: str
    interval_key: str
    started_at: datetime
    scratch_name: str
    keep_on_failure: bool = False
    jobs: int = 2
    backup: ChosenBackup | None = None
    backup_age_seconds: float | None = None
    download_path: str | None = None
    download_cleanup: str | None = None
    scratch_created: bool = False
    scratch_dropped: bool | None = None  # None: not decided (no teardown ran, or it crashed)
    digests: dict[str, list] = field(default_factory=dict)  # table -> [rows, digest], read during the restore
    validation: dict[str, Any] | None = None  # ValidationReport.summary()
    timings: dict[str, float] = field(default_factory=dict)
    completed: tuple[str, ...] = ()
    failure: Failure | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["backup"] = self.backup.to_dict() if self.backup else None
        data["completed"] = list(self.completed)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunState:
        return cls(
            **{
                **data,
                "started_at": datetime.fromisoformat(data["started_at"]),
                "backup": ChosenBackup.from_dict(data["backup"]) if data.get("backup") else None,
                "failure": Failure(**data["failure"]) if data.get("failure") else None,
                "completed": tuple(data.get("completed", ())),
            }
        )


def final_state(steps: list[tuple[str, RunState | None]], dropped: RunState | None) -> RunState | None:
    """The run's state as the last step that reported sees it; a step that never reported crashed."""
    final, crashed = None, None
    for name, state in steps:
        if state is not None:
            final, crashed = state, None
        elif final is not None and crashed is None and final.failure is None:
            crashed = name
    if final is None:
        return None
    if crashed is not None:
        final = replace(
            final,
            failure=Failure(
                crashed,
                "crashed",
                f"task {crashed} ended without a result (an error or a timeout, not a check); see its log",
            ),
        )
    if dropped is not None:
        final = replace(final, scratch_dropped=dropped.scratch_dropped)
    return final


def unreported(database: str, interval_key: str, at: datetime) -> RunState:
    """The state of a run whose first task never reported (it crashed before returning one)."""
    return RunState(
        database=database,
        interval_key=interval_key,
        started_at=at,
        scratch_name="",
        failure=Failure("choose_backup", "crashed", "task choose_backup ended without a result; see its log"),
    )
