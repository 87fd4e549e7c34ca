"""Stream a backup down from S3 and prove it is the object the backup job verified, before any restore.

The object is written to ``<name>.part`` while its SHA-256 is computed on the way; only when size and
hash equal the manifest's is it renamed to its final name. A corrupt or replaced object therefore never
reaches pg_restore, and a crashed download never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from reliability.restore.choose import ChosenBackup
from reliability.restore.errors import DownloadRejected

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Download:
    path: str  # the dump file, or the extracted folder of a directory-format dump
    cleanup: str  # what to delete afterwards: the file, or the whole extraction folder
    sha256: str
    size_bytes: int
    seconds: float


def download_backup(s3, bucket: str, backup: ChosenBackup, dest_dir: str | Path, name: str) -> Download:
    """Download ``backup`` into ``dest_dir`` as ``name`` (+ ``.d`` for a directory dump) and check it."""
    from botocore.exceptions import ClientError

    started = time.monotonic()
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    # A directory dump is the tar plus its extracted copy.
    needed = backup.size_bytes * (2 if backup.format == "directory" else 1)
    free = shutil.disk_usage(dest_dir).free
    if free < needed:
        raise DownloadRejected(
            f"not enough disk space in {dest_dir} for {backup.key}: {needed} bytes needed, "
            f"{free} free; set restore.download_dir to a larger volume",
            check="disk_space",
        )
    final = dest_dir / (name + (".tar" if backup.format == "directory" else ".dump"))
    part = final.with_name(final.name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        try:
            body = s3.get_object(Bucket=bucket, Key=backup.key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") in ("NoSuchKey", "404", "NotFound"):
                raise DownloadRejected(
                    f"backup object s3://{bucket}/{backup.key} is missing although its manifest "
                    "exists; the dump was deleted or never completed",
                    check="object_missing",
                ) from None
            raise
        with part.open("wb") as out:
            for chunk in body.iter_chunks(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        actual = digest.hexdigest()
        if size != backup.size_bytes:
            raise DownloadRejected(
                f"s3://{bucket}/{backup.key} is {size} bytes, the manifest says {backup.size_bytes}; "
                "the object was truncated or replaced after verification. Not restoring it: "
                "re-run backup_verify or pick another backup (param backup_key)",
                check="size",
            )
        if actual != backup.sha256:
            raise DownloadRejected(
                f"SHA-256 of s3://{bucket}/{backup.key} is {actual}, the manifest says "
                f"{backup.sha256}; the object is corrupt or was replaced after verification. "
                "Not restoring it: re-run backup_verify or pick another backup (param backup_key)",
                check="sha256",
            )
        part.rename(final)
    finally:
        part.unlink(missing_ok=True)
    path = cleanup = final
    if backup.format == "directory":
        path = cleanup = final.with_suffix(".d")
        shutil.rmtree(path, ignore_errors=True)
        try:
            with tarfile.open(final) as archive:
                archive.extractall(
                    path, filter="data"
                )  # refuses absolute paths, links out of the folder, devices
        except tarfile.TarError as exc:
            shutil.rmtree(path, ignore_errors=True)
            raise DownloadRejected(
                f"{backup.key} is not a readable tar of a directory-format dump: {exc}", check="format"
            ) from None
        finally:
            final.unlink()
        # The tar may hold the dump folder itself or its contents.
        if not (path / "toc.dat").exists():
            inner = [p for p in path.iterdir() if (p / "toc.dat").exists()]
            if len(inner) != 1:
                shutil.rmtree(cleanup, ignore_errors=True)
                raise DownloadRejected(
                    f"{backup.key} is not a tar of a directory-format dump (no toc.dat)", check="format"
                )
            path = inner[0]
    return Download(
        path=str(path),
        cleanup=str(cleanup),
        sha256=actual,
        size_bytes=size,
        seconds=time.monotonic() - started,
    )


def remove_download(cleanup: str | None) -> None:
    """Delete a downloaded dump (file or extraction folder); nothing to do when it is gone already."""
    if not cleanup:
        return
    target = Path(cleanup)
    if target.is_dir():
        shutil.rmtree(target, ignore_errors=True)
    else:
        target.unlink(missing_ok=True)
