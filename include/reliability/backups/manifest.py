"""The manifest written next to each dump object: what was dumped and what the verification found.

It is the contract between the backup job (writer), checksum validation (expected SHA-256 and size)
and the restore test (expected tables, columns, row counts and content digests).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

MANIFEST_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"
VERDICTS = ("verified", "suspicious", "corrupt", "failed")


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class TableEntry:
    rows: int
    digest: str  # reliability.backups.tabledigest hexdigest of the table's COPY rows
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class S3Checksum:
    """The checksum S3 checked at upload and stores with the object (``ChecksumCRC64NVME`` etc.)."""

    algorithm: str  # CRC64NVME, CRC32, CRC32C, SHA1, SHA256
    type: str  # FULL_OBJECT | COMPOSITE
    value: str  # base64, as S3 returns it


@dataclass(frozen=True)
class Manifest:
    database: str
    dump_key: str
    format: str  # custom | directory (a directory dump is stored as one tar object)
    compression: int
    server_version: str
    pg_dump_version: str
    started_at: str  # ISO 8601, UTC
    finished_at: str
    size_bytes: int
    sha256: str
    tables: dict[str, TableEntry]
    toc: dict[str, int]  # object kind -> count, e.g. {"TABLE": 8, "INDEX": 9, "TABLE DATA": 8}
    verdict: str
    reasons: tuple[str, ...] = ()
    pg_dump_warnings: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    s3_checksum: S3Checksum | None = None  # added later: older manifests have none
    manifest_version: int = MANIFEST_VERSION

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ManifestError(f"verdict {self.verdict!r} is not one of {VERDICTS}")
        if len(self.sha256) != 64:
            raise ManifestError(f"sha256 {self.sha256!r} is not 64 hex digits")

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "manifest") -> Manifest:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ManifestError(f"{source} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ManifestError(f"{source} is not a JSON object")
        version = data.get("manifest_version")
        if version != MANIFEST_VERSION:
            raise ManifestError(
                f"{source} has manifest_version {version!r}; this code reads {MANIFEST_VERSION}"
            )
        try:
            tables = {
                name: TableEntry(
                    rows=int(t["rows"]), digest=str(t["digest"]), columns=tuple(t.get("columns", ()))
                )
                for name, t in data["tables"].items()
            }
            return cls(
                **{
                    **data,
                    "tables": tables,
                    "reasons": tuple(data.get("reasons", ())),
                    "pg_dump_warnings": tuple(data.get("pg_dump_warnings", ())),
                    "s3_checksum": S3Checksum(**data["s3_checksum"]) if data.get("s3_checksum") else None,
                }
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ManifestError(f"{source} is missing or has a malformed field: {exc}") from None


def manifest_key(dump_key: str) -> str:
    return dump_key + MANIFEST_SUFFIX
