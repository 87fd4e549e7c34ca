"""What the backup job works on and hands back: a request, where it reads and writes, and its result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from reliability.backup.canary import CanaryResult
from reliability.backup.config import DumpOptions
from reliability.backup.verdict import Verdict
from reliability.backups.manifest import TableEntry

JOB = "backup_verify"
ACTION = "backup.verify"


class RequestError(ValueError):
    """A request that cannot be run as asked (a verify-only key that is not a dump of a configured
    database, or that does not exist). It fails that request alone, before anything is recorded: the
    database's rows and gauges keep describing its real backups."""


@dataclass(frozen=True)
class BackupRequest:
    """One database to back up and verify, or (``verify_only_key``) one existing object to verify."""

    database: str
    format: str = "custom"
    compression: int = 6
    jobs: int = 2
    verify_only_key: str | None = None
    interval_key: str = ""

    def __post_init__(self):
        DumpOptions(self.format, self.compression, self.jobs)  # validates

    @property
    def mode(self) -> str:
        return "verify" if self.verify_only_key else "backup"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackupRequest:
        return cls(**data)


@dataclass(frozen=True)
class BackupTargets:
    """Where the job reads and writes; plain values, so tests and the CLI need no Airflow."""

    source_dsn: str | None = field(repr=False)  # connection strings hold passwords: never in a repr
    s3: Any
    bucket: str
    results_dsn: str | None = field(default=None, repr=False)
    workdir: str | None = None


@dataclass(frozen=True)
class BackupResult:
    request: BackupRequest
    verdict: Verdict
    started_at: datetime
    finished_at: datetime
    bucket: str
    dump_key: str
    uploaded: bool = False
    manifest_key: str | None = None
    format: str | None = None
    compression: int | None = None
    size_bytes: int = 0
    sha256: str | None = None
    crc64nvme: str | None = None  # S3's full-object CRC64NVME, base64 (new dumps only)
    tables: dict[str, TableEntry] = field(default_factory=dict)
    toc: dict[str, int] = field(default_factory=dict)
    server_version: str | None = None
    pg_dump_version: str | None = None
    pg_dump_exit: int | None = None
    dumped_at: datetime | None = None  # when the verified bytes were made
    newest_usable_at: datetime | None = None  # the newest verified/suspicious dump of this database
    warnings: tuple[str, ...] = ()
    store_error: str | None = None
    unstored_rows: dict[str, Any] | None = None  # the dump's rows (JSON) when the store was down
    canary: CanaryResult | None = None  # new dumps only: the verifier's check on a damaged copy

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def summary(self) -> dict[str, Any]:
        """JSON-safe and secret-free: the CLI's output and the outcome's summary."""
        return {
            "database": self.request.database,
            "mode": self.request.mode,
            "verdict": self.verdict.verdict,
            "reasons": list(self.verdict.reasons),
            "warnings": list(self.warnings),
            "bucket": self.bucket,
            "dump_key": self.dump_key,
            "manifest_key": self.manifest_key,
            "uploaded": self.uploaded,
            "format": self.format,
            "compression": self.compression,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            **({"crc64nvme": self.crc64nvme} if self.crc64nvme else {}),
            "tables": len(self.tables),
            "rows": self.rows,
            "toc": self.toc,
            "server_version": self.server_version,
            "pg_dump_version": self.pg_dump_version,
            "pg_dump_exit": self.pg_dump_exit,
            "duration_seconds": self.duration_seconds,
            "dumped_at": self.dumped_at.isoformat() if self.dumped_at else None,
            **({"store_error": self.store_error} if self.store_error else {}),
            **({"canary": self.canary.to_dict(self.duration_seconds)} if self.canary else {}),
        }
