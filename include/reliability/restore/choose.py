"""Which backup to restore: the newest ``verified`` one of a database, or the one asked for.

Candidates come from the backup job's rows in the results store when there are any, newest first, and
otherwise from the manifests in S3 (``<prefix><...>.manifest.json``), newest first. Either way the
manifest in S3 has the last word: it carries the SHA-256, tables, row counts and digests the restore is
checked against, and its verdict must be ``verified``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reliability.backups.manifest import MANIFEST_SUFFIX, Manifest, ManifestError, manifest_key
from reliability.restore.errors import NoVerifiedBackup

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChosenBackup:
    database: str
    key: str
    sha256: str
    size_bytes: int
    format: str
    snapshot_at: datetime  # when pg_dump started: the data is as of this moment
    verdict: str
    source: str  # results_store | s3 | requested
    tables: int
    rows: int

    def age_seconds(self, at: datetime) -> float:
        """The backup's age at ``at``: how much data a restore of it would lose (the RPO figure)."""
        return (at - self.snapshot_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "key": self.key,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "format": self.format,
            "snapshot_at": self.snapshot_at.isoformat(),
            "verdict": self.verdict,
            "source": self.source,
            "tables": self.tables,
            "rows": self.rows,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChosenBackup:
        return cls(**{**data, "snapshot_at": datetime.fromisoformat(data["snapshot_at"])})


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _chosen(manifest: Manifest, key: str, source: str) -> ChosenBackup:
    return ChosenBackup(
        database=manifest.database,
        key=key,
        sha256=manifest.sha256,
        size_bytes=manifest.size_bytes,
        format=manifest.format,
        snapshot_at=_utc(manifest.started_at),
        verdict=manifest.verdict,
        source=source,
        tables=len(manifest.tables),
        rows=manifest.total_rows,
    )


def read_manifest(s3, bucket: str, dump_key: str) -> Manifest:
    """The manifest next to ``dump_key``; a missing or unreadable one is a :class:`NoVerifiedBackup`."""
    from botocore.exceptions import ClientError

    key = manifest_key(dump_key)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound"):
            raise NoVerifiedBackup(
                f"backup {dump_key} has no manifest (s3://{bucket}/{key} does not exist); "
                "only dumps written and verified by backup_verify can be restored",
                check="manifest",
            ) from None
        raise
    try:
        return Manifest.from_json(body, source=f"s3://{bucket}/{key}")
    except ManifestError as exc:
        raise NoVerifiedBackup(f"{exc}; fix or re-run the backup", check="manifest") from None


def s3_candidates(s3, bucket: str, prefix: str) -> list[str]:
    """Dump keys that have a manifest under ``prefix``, the most recently written manifest first."""
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", ()):
            if obj["Key"].endswith(MANIFEST_SUFFIX):
                found.append((obj["LastModified"], obj["Key"][: -len(MANIFEST_SUFFIX)]))
    return [key for _, key in sorted(found, reverse=True)]


def choose_backup(
    s3,
    bucket: str,
    database: str,
    prefix: str,
    *,
    now: datetime,
    rpo_seconds: float,
    requested_key: str | None = None,
    store_candidates: Iterable[str] = (),
) -> ChosenBackup:
    """The backup to restore, or :class:`NoVerifiedBackup` saying why there is none.

    A requested key must be a verified backup of ``database``; its age is reported against the RPO but
    does not stop the test (restoring an older backup on purpose is legitimate). The automatic choice
    must be within the RPO window: an older newest-verified backup is itself the failure to report.
    """
    if requested_key:
        manifest = read_manifest(s3, bucket, requested_key)
        if manifest.database != database:
            raise NoVerifiedBackup(
                f"backup {requested_key} is a backup of {manifest.database!r}, not {database!r}",
                check="requested_backup",
            )
        if manifest.verdict != "verified":
            raise NoVerifiedBackup(
                f"backup {requested_key} has verdict {manifest.verdict!r}"
                f"{': ' + '; '.join(manifest.reasons) if manifest.reasons else ''}; "
                "only verified backups are restored",
                check="requested_backup",
            )
        return _chosen(manifest, requested_key, "requested")

    keys, source = list(store_candidates), "results_store"
    if not keys:
        keys, source = s3_candidates(s3, bucket, prefix), "s3"
    verdicts: Counter = Counter()
    chosen = None
    for key in keys:
        try:
            manifest = read_manifest(s3, bucket, key)
        except NoVerifiedBackup as exc:
            log.warning("skipping candidate backup: %s", exc)
            verdicts["unreadable"] += 1
            continue
        if manifest.database != database:
            continue
        verdicts[manifest.verdict] += 1
        if manifest.verdict == "verified":
            chosen = _chosen(manifest, key, source)
            break
    where = f"s3://{bucket}/{prefix}"
    if chosen is None:
        seen = ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())) or "no manifests at all"
        raise NoVerifiedBackup(
            f"no verified backup of {database} under {where} ({seen}); check backup_verify",
            check="verified_backup",
        )
    age = chosen.age_seconds(now)
    if age > rpo_seconds:
        raise NoVerifiedBackup(
            f"no verified backup of {database} within the RPO window of {_hours(rpo_seconds)}: the newest, "
            f"{chosen.key}, was taken at {chosen.snapshot_at:%Y-%m-%d %H:%M} UTC ({_hours(age)} ago); "
            "check backup_verify",
            check="rpo_window",
            newest=chosen,
            age_seconds=age,
        )
    return chosen


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"
