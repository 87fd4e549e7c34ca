"""Reading every byte of a dump with pg_restore: from a stream (custom format), a directory, or a tar.

``pg_restore --list`` reads only the table of contents and passes truncated and bit-flipped dumps, so
the dump is fed to ``pg_restore --create --file=-`` instead: it decompresses every data block in
order and prints the whole SQL script, which :mod:`reliability.backup.sqlstream` parses on a thread as
it arrives. The custom format is read sequentially from stdin, which lets the dump be verified while
it is being made and uploaded; memory stays bounded by the pipe and chunk sizes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reliability.backup.sqlstream import ArchiveParser, ArchiveReport
from reliability.backup.upload import describe_error as _reason
from reliability.backups.pgclient import client_binary, enlarge_pipe, restore_env, sort_stderr_line

CHUNK = 1 << 20
_STDERR_LINES = 200
CUSTOM_MAGIC = b"PGDMP"


class RestoreReader:
    """``pg_restore --create --file=-`` over stdin (fed with :meth:`feed`) or over a dump directory."""

    def __init__(self, directory: str | Path | None = None):
        argv = [client_binary("pg_restore"), "--create", "--file=-"]
        if directory is not None:
            argv.append(str(directory))
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if directory is None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=restore_env(),
        )
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                enlarge_pipe(pipe)
        self._parser = ArchiveParser()
        self._parse_error: str | None = None
        self._stderr: list[str] = []
        self.accepting = directory is None
        self._threads = [
            threading.Thread(target=self._read_stdout, name="pg_restore-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, name="pg_restore-stderr", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_stdout(self) -> None:
        stdout = self._proc.stdout
        while chunk := stdout.read1(CHUNK):
            if self._parse_error is None:
                try:
                    self._parser.feed(chunk)
                except Exception as exc:  # keep draining, or pg_restore would block on a full pipe
                    self._parse_error = f"{type(exc).__name__}: {exc}"

    def _read_stderr(self) -> None:
        for raw in self._proc.stderr:
            if len(self._stderr) < _STDERR_LINES:
                self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    def feed(self, chunk: bytes) -> None:
        """Pass the next bytes of a custom-format dump; a pg_restore that stopped reading is not an error here
        (its exit status and messages say why at :meth:`finish`)."""
        if not self.accepting:
            return
        try:
            self._proc.stdin.write(chunk)
        except (BrokenPipeError, ValueError, OSError):
            self.accepting = False

    def finish(self) -> ArchiveReport:
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
        self.accepting = False
        returncode = self._proc.wait()
        for thread in self._threads:
            thread.join()
        report = self._parser.close()
        report.returncode = returncode
        for line in self._stderr:
            sort_stderr_line(
                "pg_restore", line, report.errors, report.warnings, plain_is_error=returncode != 0
            )
        if self._parse_error:
            report.errors.append(f"could not parse pg_restore's output: {self._parse_error}")
        return report

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        try:
            self.finish()
        except Exception:
            pass


@dataclass
class ReadResult:
    """One read of a dump object or file: its bytes' size and SHA-256, and what pg_restore found."""

    format: str | None  # custom | directory | None (not a dump)
    size_bytes: int = 0
    sha256: str | None = None
    report: ArchiveReport | None = None
    content_problems: list[str] = field(default_factory=list)  # empty, not a dump
    read_error: str | None = None  # the source could not be read (download failed, ...)


class _HashingReader:
    """A file-like over ``raw`` that hashes and counts what is read, replaying ``head`` first."""

    def __init__(self, raw, head: bytes = b""):
        self.raw, self._head = raw, head
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        if self._head:
            n = len(self._head) if n is None or n < 0 else n
            data, self._head = self._head[:n], self._head[n:]
        else:
            data = self.raw.read(CHUNK if n is None or n < 0 else n)
        self.sha.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    def result(self, fmt: str | None, **found: Any) -> ReadResult:
        """The result of a read that got to the end: the size and SHA-256 of the bytes, and what was ``found``."""
        return ReadResult(format=fmt, size_bytes=self.size, sha256=self.sha.hexdigest(), **found)

    def broken_off(self, fmt: str, source: str, exc: Exception) -> ReadResult:
        """The result of a read that broke off: how far it got, and no hash (the bytes are not all there)."""
        return ReadResult(
            format=fmt,
            size_bytes=self.size,
            read_error=f"reading {source} failed after {self.size:,} bytes: {_reason(exc)}",
        )


def _head(raw, size: int = 512) -> bytes:
    head = b""
    while len(head) < size:
        data = raw.read(size - len(head))
        if not data:
            break
        head += data
    return head


def read_dump_stream(raw, source: str, workdir: str | None = None) -> ReadResult:
    """Verify a dump read from the binary file-like ``raw`` (a file, an S3 body): custom format, or a tar
    of a directory-format dump. ``source`` names it in messages. Errors reading ``raw`` become
    ``read_error``; what is wrong with its content becomes ``content_problems`` or the report."""
    try:
        head = _head(raw)
    except Exception as exc:
        return ReadResult(format=None, read_error=f"could not read {source}: {_reason(exc)}")
    reader = _HashingReader(raw, head)
    if not head:
        return reader.result(None, content_problems=[f"{source} is empty (0 bytes): it is not a dump"])
    if head.startswith(CUSTOM_MAGIC):
        return _read_custom(reader, source)
    if len(head) >= 262 and head[257:262] == b"ustar":
        return _read_tar(reader, source, workdir)
    reader.drain()
    return reader.result(
        None,
        content_problems=[
            f"{source} is not a PostgreSQL dump: it starts with {head[:8]!r}, neither a "
            "custom-format archive (PGDMP) nor a tar of a directory-format dump"
        ],
    )


def _read_custom(reader: _HashingReader, source: str) -> ReadResult:
    restore = RestoreReader()
    try:
        while chunk := reader.read(CHUNK):
            restore.feed(chunk)
    except Exception as exc:
        restore.kill()
        return reader.broken_off("custom", source, exc)
    except BaseException:
        restore.kill()
        raise
    return reader.result("custom", report=restore.finish())


def _read_tar(reader: _HashingReader, source: str, workdir: str | None) -> ReadResult:
    tmp = tempfile.mkdtemp(prefix="backup-verify-", dir=workdir)
    try:
        try:
            with tarfile.open(fileobj=reader, mode="r|", bufsize=CHUNK) as tar:
                tar.extractall(tmp, filter="data")
            reader.drain()
        except (tarfile.TarError, EOFError, OSError) as exc:
            reader.drain()
            return reader.result(
                "directory",
                content_problems=[f"{source} is not a readable tar of a dump directory: {_reason(exc)}"],
            )
        except Exception as exc:
            return reader.broken_off("directory", source, exc)
        tocs = sorted(Path(tmp).rglob("toc.dat"))
        if not tocs:
            return reader.result(
                "directory",
                content_problems=[f"{source} is a tar without a toc.dat: not a directory-format dump"],
            )
        return reader.result("directory", report=RestoreReader(tocs[0].parent).finish())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_dump_path(path: str | Path, workdir: str | None = None) -> ReadResult:
    """Verify a local dump: a custom-format file, a tar of a directory dump, or a dump directory."""
    path = Path(path)
    if path.is_dir():
        if not (path / "toc.dat").exists():
            return ReadResult(
                format=None, content_problems=[f"{path} is a folder without toc.dat: not a dump directory"]
            )
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
        return ReadResult(format="directory", size_bytes=size, report=RestoreReader(path).finish())
    try:
        raw = open(path, "rb")
    except OSError as exc:
        return ReadResult(format=None, read_error=f"cannot open {path}: {exc.strerror}")
    with raw:
        return read_dump_stream(raw, str(path), workdir)


def read_dump_object(s3, bucket: str, key: str, workdir: str | None = None) -> ReadResult:
    """Verify an S3 object, streamed: never held whole in memory nor written to disk (custom format)."""
    source = f"s3://{bucket}/{key}"
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    except Exception as exc:
        return ReadResult(format=None, read_error=f"could not download {source}: {_reason(exc)}")
    try:
        return read_dump_stream(body, source, workdir)
    finally:
        body.close()
