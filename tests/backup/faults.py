"""Fault makers for the backup tests: damaged dump files and an S3 client that fails on purpose.

They live with the tests, never in the library.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from reliability.backups.pgclient import ClientConnection, client_binary


def pg_dump_file(dsn: str, path: Path, *extra: str) -> Path:
    """A plain ``pg_dump`` to ``path`` (custom format unless ``extra`` says otherwise), password via env."""
    conn = ClientConnection.from_dsn(dsn)
    subprocess.run(
        [client_binary("pg_dump"), f"--dbname={conn.conninfo}", "--format=custom", f"--file={path}", *extra],
        env=conn.env(),
        check=True,
        capture_output=True,
    )
    return path


def truncated(source: Path, size: int, target: Path) -> Path:
    target.write_bytes(source.read_bytes()[:size])
    return target


def flipped(source: Path, offset: int, target: Path, mask: int = 0x40) -> Path:
    data = bytearray(source.read_bytes())
    data[offset] ^= mask
    target.write_bytes(bytes(data))
    return target


class PartFailure(RuntimeError):
    pass


class FailingS3:
    """Delegates to a real boto3 client, but ``upload_part`` number ``fail_part`` runs ``before`` (if given)
    and then raises, or (``fail=False``) runs ``before`` and carries on."""

    def __init__(self, client, fail_part: int, before=None, fail: bool = True):
        self._client, self.fail_part, self.before, self.fail = client, fail_part, before, fail
        self.parts_attempted: list[int] = []

    def upload_part(self, **kwargs):
        self.parts_attempted.append(kwargs["PartNumber"])
        if kwargs["PartNumber"] == self.fail_part:
            if self.before:
                self.before()
            if self.fail:
                raise PartFailure(f"injected failure of part {self.fail_part} (connection reset by peer)")
        return self._client.upload_part(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)
