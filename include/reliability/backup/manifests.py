"""The manifest object next to a dump in S3 (``<key>.manifest.json``): read it, or write it once."""

from __future__ import annotations

from dataclasses import replace

from reliability.backup.models import JOB, BackupResult
from reliability.backup.upload import describe_error
from reliability.backup.verdict import Verdict
from reliability.backups.manifest import Manifest, ManifestError, S3Checksum, manifest_key


def load_manifest(s3, bucket: str, dump_key: str, warnings: list[str]) -> Manifest | None:
    """The manifest next to ``dump_key``, or None (with the reason appended to ``warnings``)."""
    url = f"s3://{bucket}/{manifest_key(dump_key)}"
    try:
        body = s3.get_object(Bucket=bucket, Key=manifest_key(dump_key))["Body"].read()
    except Exception as exc:
        code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
        warnings.append(
            f"no manifest {url}: compared with the source's catalog instead"
            if code in ("NoSuchKey", "404")
            else f"could not read the manifest {url}: {describe_error(exc)}"
        )
        return None
    try:
        return Manifest.from_json(body, url)
    except ManifestError as exc:
        warnings.append(f"{exc}; compared with the source's catalog instead")
        return None


def write_manifest(result: BackupResult, s3, exclude_tables, archive_dbname: str | None) -> BackupResult:
    """Written only now: the object is complete and was read back, so it describes a finished dump."""
    manifest = Manifest(
        database=result.request.database,
        dump_key=result.dump_key,
        format=result.format,
        compression=result.compression,
        server_version=result.server_version or "",
        pg_dump_version=result.pg_dump_version or "",
        started_at=result.started_at.isoformat(),
        finished_at=result.finished_at.isoformat(),
        size_bytes=result.size_bytes,
        sha256=result.sha256,
        s3_checksum=S3Checksum("CRC64NVME", "FULL_OBJECT", result.crc64nvme) if result.crc64nvme else None,
        tables=result.tables,
        toc=result.toc,
        verdict=result.verdict.verdict,
        reasons=result.verdict.reasons,
        pg_dump_warnings=tuple(
            w.removeprefix("pg_dump: ") for w in result.warnings if w.startswith("pg_dump: ")
        ),
        extra={
            "archive_dbname": archive_dbname,
            "exclude_tables": list(exclude_tables),
            "interval_key": result.request.interval_key,
            "job": JOB,
        },
    )
    mkey = manifest_key(result.dump_key)
    try:
        s3.put_object(
            Bucket=result.bucket, Key=mkey, Body=manifest.to_json().encode(), ContentType="application/json"
        )
    except Exception as exc:
        reason = (
            f"the dump was uploaded but its manifest s3://{result.bucket}/{mkey} could not be written "
            f"({describe_error(exc)}): checksum validation and the restore test cannot use it"
        )
        return replace(result, verdict=Verdict("failed", (*result.verdict.reasons, reason)))
    return replace(result, manifest_key=mkey)
