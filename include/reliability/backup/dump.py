"""pg_dump to S3 in one pass: every chunk is hashed, uploaded and verified as it comes out of pg_dump.

Custom format: pg_dump writes to a pipe; each chunk read from it updates the SHA-256, goes to the
multipart upload (sent by a background thread through a bounded queue) and to ``pg_restore`` (which
decompresses every data block while a thread digests its output). Nothing is buffered whole and the
bytes are read from pg_dump once.

Directory format (parallel ``pg_dump -j``): pg_dump writes a folder; it is then streamed to S3 as one
tar, hashed on the way, while pg_restore reads the folder at the same time. Same verdict rules.

A failed pg_dump or upload aborts the multipart upload: no object is left that could be mistaken for a
backup. The object is completed only after pg_dump exited 0 and pg_restore read it to the end.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tarfile
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from reliability.backup.config import DumpOptions
from reliability.backup.sqlstream import ArchiveReport
from reliability.backup.upload import MultipartUpload, UploadFailed
from reliability.backup.verify import CHUNK, RestoreReader
from reliability.backups.pgclient import ClientConnection, client_binary, enlarge_pipe, sort_stderr_line

log = logging.getLogger(__name__)


@dataclass
class DumpRun:
    """What making and uploading one dump produced, before any verdict."""

    bucket: str
    key: str
    format: str
    compression: int
    started_at: datetime
    finished_at: datetime | None = None
    size_bytes: int = 0
    sha256: str | None = None
    crc64nvme: str | None = None  # S3's full-object checksum of the completed object (base64)
    pg_dump_exit: int | None = None
    pg_dump_errors: list[str] = field(default_factory=list)
    pg_dump_warnings: list[str] = field(default_factory=list)
    upload_error: str | None = None
    uploaded: bool = False
    report: ArchiveReport | None = None

    @property
    def failures(self) -> list[str]:
        """Why no usable object was produced (empty when one was)."""
        found = []
        if self.pg_dump_exit not in (0, None):
            error = self.pg_dump_errors[0] if self.pg_dump_errors else "no message"
            found.append(f"pg_dump exited with status {self.pg_dump_exit}: {error}")
        if self.upload_error:
            found.append(f"{self.upload_error}; the multipart upload was aborted and no manifest was written")
        return found


class _StderrCollector(threading.Thread):
    def __init__(self, stream, connection: ClientConnection):
        super().__init__(name="pg_dump-stderr", daemon=True)
        self.stream, self.connection = stream, connection
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def run(self) -> None:
        for raw in self.stream:
            line = self.connection.scrub(raw.decode("utf-8", "replace").rstrip())
            sort_stderr_line(
                "pg_dump", line, self.errors, self.warnings, plain_is_error=len(self.errors) < 100
            )
            del self.warnings[100:]


def _pg_dump_argv(
    connection: ClientConnection, options: DumpOptions, exclude_tables, output: str | None
) -> list[str]:
    argv = [
        client_binary("pg_dump"),
        "--no-password",
        f"--dbname={connection.conninfo}",
        f"--compress={options.compression}",
    ]
    if output is None:
        argv.append("--format=custom")
    else:
        argv += ["--format=directory", f"--jobs={options.jobs}", f"--file={output}"]
    argv += [f"--exclude-table={pattern}" for pattern in exclude_tables]
    return argv


def dump_to_s3(
    connection: ClientConnection,
    options: DumpOptions,
    *,
    s3,
    bucket: str,
    key: str,
    part_size: int,
    exclude_tables: tuple[str, ...] = (),
    workdir: str | None = None,
) -> DumpRun:
    """Dump, upload and read back one database; see the module docstring. Never raises for a failed
    pg_dump or upload (they are in the result); re-raises anything else after cleaning up."""
    run = DumpRun(
        bucket=bucket,
        key=key,
        format=options.format,
        compression=options.compression,
        started_at=datetime.now(UTC),
    )
    upload = MultipartUpload(s3, bucket, key, part_size)
    try:
        upload.start()
    except UploadFailed as exc:
        run.upload_error = str(exc)
        run.finished_at = datetime.now(UTC)
        return run
    try:
        if options.format == "directory":
            _dump_directory(run, connection, options, upload, exclude_tables, workdir)
        else:
            _dump_custom(run, connection, options, upload, exclude_tables)
    except BaseException:
        upload.abort()
        raise
    run.finished_at = datetime.now(UTC)
    return run


def _finish_upload(run: DumpRun, upload: MultipartUpload) -> None:
    if run.pg_dump_exit != 0 or run.upload_error:
        problem = upload.abort()
        if problem:
            run.upload_error = f"{run.upload_error}; {problem}" if run.upload_error else problem
        return
    try:
        upload.complete()
        run.uploaded = True
        run.crc64nvme = upload.checksum
    except UploadFailed as exc:
        run.upload_error = str(exc)


def _dump_custom(
    run: DumpRun, connection: ClientConnection, options: DumpOptions, upload: MultipartUpload, exclude_tables
) -> None:
    restore = RestoreReader()
    try:
        pg_dump = subprocess.Popen(
            _pg_dump_argv(connection, options, exclude_tables, None),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=connection.env(),
        )
    except BaseException:
        restore.kill()
        raise
    enlarge_pipe(pg_dump.stdout)
    stderr = _StderrCollector(pg_dump.stderr, connection)
    stderr.start()
    sha = hashlib.sha256()
    try:
        stdout = pg_dump.stdout
        while chunk := stdout.read1(CHUNK):
            sha.update(chunk)
            run.size_bytes += len(chunk)
            restore.feed(chunk)
            upload.write(chunk)
    except UploadFailed as exc:
        run.upload_error = str(exc)
        pg_dump.kill()
    except BaseException:
        pg_dump.kill()
        restore.kill()
        pg_dump.wait()
        raise
    exit_code = pg_dump.wait()
    # Killed by us because the upload failed: its exit status says nothing about the dump.
    run.pg_dump_exit = None if run.upload_error else exit_code
    stderr.join()
    run.pg_dump_errors, run.pg_dump_warnings = stderr.errors, stderr.warnings
    if run.upload_error:
        restore.kill()
    else:
        run.report = restore.finish()
    run.sha256 = sha.hexdigest()
    _finish_upload(run, upload)


class _TarSink:
    """The file object tarfile writes to: hash, count and upload each block."""

    def __init__(self, upload: MultipartUpload):
        self.upload = upload
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.upload.write(bytes(data))
        return len(data)


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _dump_directory(
    run: DumpRun,
    connection: ClientConnection,
    options: DumpOptions,
    upload: MultipartUpload,
    exclude_tables,
    workdir: str | None,
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="backup-dump-", dir=workdir))
    folder = tmp / Path(run.key).name.removesuffix(".tar")
    try:
        pg_dump = subprocess.Popen(
            _pg_dump_argv(connection, options, exclude_tables, str(folder)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=connection.env(),
        )
        stderr = _StderrCollector(pg_dump.stderr, connection)
        stderr.start()
        try:
            run.pg_dump_exit = pg_dump.wait()
        except BaseException:
            pg_dump.kill()
            pg_dump.wait()
            raise
        stderr.join()
        run.pg_dump_errors, run.pg_dump_warnings = stderr.errors, stderr.warnings
        if run.pg_dump_exit != 0:
            _finish_upload(run, upload)
            return
        # pg_restore reads the folder while the tar of it is uploaded: both read the same page cache.
        restore = RestoreReader(folder)
        sink = _TarSink(upload)
        try:
            with tarfile.open(fileobj=sink, mode="w|", bufsize=CHUNK, format=tarfile.PAX_FORMAT) as tar:
                tar.add(folder, arcname=folder.name, filter=_anonymous)
        except UploadFailed as exc:
            run.upload_error = str(exc)
        except BaseException:
            restore.kill()
            raise
        run.size_bytes, run.sha256 = sink.size, sink.sha.hexdigest()
        if run.upload_error:
            restore.kill()
        else:
            run.report = restore.finish()
        _finish_upload(run, upload)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
