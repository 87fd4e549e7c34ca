"""Where a build's files come from: the S3 prefix CI uploads to (``builds/<app>/<build id>/``) or a folder.

Both sources list files with their sizes and stream their bytes in chunks, so a file of any size is
read with bounded memory. A file that cannot be read raises :class:`UnreadableFile` with the reason;
the caller collects them so one report names every bad file.

A build may carry ``build-info.json`` at its root (``{"branch": ..., "commit": ..., "created_at": ...}``,
written by CI); it says which branch the build is from, which decides whether it can become part of a
baseline. It is not measured. Build ids are expected to sort naturally by age (CI run numbers, or
dated ids such as ``20260105.3``): "the newest build" is the last in that order.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reliability.buildsize.errors import BuildInfoInvalid, BuildNotFound, BuildSizeError

CHUNK = 1 << 20
BUILD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$")


class UnreadableFile(Exception):
    """One file could not be read; ``str()`` is the reason."""


@dataclass(frozen=True)
class BuildFile:
    path: str  # relative to the build's root, '/'-separated
    size: int
    modified: datetime
    locator: str  # the local path or the S3 key


@dataclass(frozen=True)
class BuildInfo:
    branch: str | None = None
    commit: str | None = None
    created_at: datetime | None = None

    @classmethod
    def parse(cls, data: bytes, where: str) -> BuildInfo:
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BuildInfoInvalid(
                f"{where} is not valid JSON ({exc}); CI should write "
                '{"branch": ..., "commit": ..., "created_at": "<ISO 8601>"}'
            ) from None
        if not isinstance(doc, dict):
            raise BuildInfoInvalid(f"{where} must hold a JSON object, not {type(doc).__name__}")
        for key in ("branch", "commit", "created_at"):
            if doc.get(key) is not None and not isinstance(doc[key], str):
                raise BuildInfoInvalid(f"{where}: {key!r} must be a string")
        created = None
        if doc.get("created_at"):
            try:
                created = datetime.fromisoformat(doc["created_at"].replace("Z", "+00:00"))
            except ValueError:
                raise BuildInfoInvalid(
                    f"{where}: created_at {doc['created_at']!r} is not an ISO 8601 time"
                ) from None
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
        return cls(branch=doc.get("branch") or None, commit=doc.get("commit") or None, created_at=created)


def natural_key(build_id: str) -> tuple:
    parts = (p for p in re.split(r"(\d+)", build_id) if p)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def check_build_id(build_id: str) -> str:
    if not BUILD_ID.match(build_id or "") or ".." in build_id:
        raise ValueError(
            f"build id {build_id!r} is not valid: one path segment of letters, digits and ._:+- "
            "(to measure a local folder, give its absolute path)"
        )
    return build_id


def local_build_folder(path: str, roots: Sequence[Path]) -> Path:
    """``path`` resolved, when it is a folder under one of ``roots``; ValueError says why not.

    Symbolic links are resolved first, so a link cannot lead out of a root; a root itself is not a build.
    """
    if not roots:
        raise ValueError(
            f"build folder {path!r} refused: local folders are off (local_build_roots in the budget file "
            "is empty); give a build id under builds/<app>/ in the bucket"
        )
    folder = Path(path).resolve()
    for root in roots:
        real_root = root.resolve()
        if folder != real_root and folder.is_relative_to(real_root):
            check_build_id(folder.name)
            return folder
    raise ValueError(
        f"build folder {path!r} is not inside a folder of local_build_roots "
        f"({', '.join(str(r) for r in roots)}); copy the build there or give a build id"
    )


class BuildSource:
    """A build's files; subclasses read them from one place."""

    app: str
    build_id: str
    where: str  # for messages; never holds credentials
    is_local: bool

    def list_files(self) -> list[BuildFile]:
        raise NotImplementedError

    def read_chunks(self, file: BuildFile, chunk_size: int = CHUNK) -> Iterator[bytes]:
        raise NotImplementedError

    def read_small(self, relative: str, limit: int = 1 << 20) -> bytes | None:
        """A small file at the build's root, or None when it is absent."""
        raise NotImplementedError


class LocalBuild(BuildSource):
    is_local = True

    def __init__(self, root: str | Path, app: str, build_id: str | None = None):
        self.root = Path(root)
        self.app = app
        self.build_id = build_id or self.root.name
        self.where = f"build {self.build_id} of {app} in {self.root}"
        if not self.root.exists():
            raise BuildNotFound(f"build folder {self.root} does not exist; check the path")
        if not self.root.is_dir():
            raise BuildNotFound(f"{self.root} is not a folder; give the folder holding the build's files")

    def list_files(self) -> list[BuildFile]:
        found = []

        def add(path: Path) -> None:
            try:
                info = path.stat()
            except OSError:
                info = path.lstat()  # a broken link: listed now, reported as unreadable when read
            found.append(
                BuildFile(
                    path.relative_to(self.root).as_posix(),
                    info.st_size,
                    datetime.fromtimestamp(info.st_mtime, UTC),
                    str(path),
                )
            )

        def fail(exc: OSError) -> None:
            raise BuildSizeError(f"folder {exc.filename} of {self.where} cannot be listed: {exc.strerror}")

        for folder, dirs, names in os.walk(self.root, onerror=fail):
            base = Path(folder)
            for name in dirs:
                if (base / name).is_symlink():  # os.walk does not follow it; report it rather than skip it
                    add(base / name)
            for name in names:
                add(base / name)
        return sorted(found, key=lambda f: f.path)

    def read_chunks(self, file: BuildFile, chunk_size: int = CHUNK) -> Iterator[bytes]:
        path = file.locator
        try:
            # O_NONBLOCK: opening a FIFO for reading would otherwise wait forever for a writer.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ENOENT and os.path.islink(path):
                raise UnreadableFile(f"broken symbolic link to {os.readlink(path)}") from None
            raise UnreadableFile(exc.strerror or str(exc)) from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            if stat.S_ISDIR(mode):
                raise UnreadableFile("is a folder (a symbolic link to a folder is not followed)")
            kind = "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "device"
            raise UnreadableFile(f"not a regular file ({kind})")
        with os.fdopen(fd, "rb", buffering=0) as handle:
            try:
                while chunk := handle.read(chunk_size):
                    yield chunk
            except OSError as exc:
                raise UnreadableFile(exc.strerror or str(exc)) from None

    def read_small(self, relative: str, limit: int = 1 << 20) -> bytes | None:
        path = self.root / relative
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            return handle.read(limit)


class S3Build(BuildSource):
    is_local = False

    def __init__(self, client, bucket: str, app: str, build_id: str):
        self.client = client
        self.bucket = bucket
        self.app = app
        self.build_id = check_build_id(build_id)
        self.prefix = f"{builds_prefix(app)}{build_id}/"
        self.where = f"build {build_id} of {app} (s3://{bucket}/{self.prefix})"

    def list_files(self) -> list[BuildFile]:
        from botocore.exceptions import ClientError

        found = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for obj in page.get("Contents", ()):
                    if obj["Key"].endswith("/"):  # folder markers some upload tools create
                        continue
                    found.append(
                        BuildFile(
                            obj["Key"][len(self.prefix) :], obj["Size"], obj["LastModified"], obj["Key"]
                        )
                    )
        except ClientError as exc:
            raise BuildSizeError(f"listing {self.where} failed: {_s3_reason(exc)}") from None
        if not found:
            raise BuildNotFound(
                f"{self.where} does not exist: no objects under the prefix; check the build "
                "id and that CI uploaded the build"
            )
        return sorted(found, key=lambda f: f.path)

    def read_chunks(self, file: BuildFile, chunk_size: int = CHUNK) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=file.locator)["Body"]
        except ClientError as exc:
            raise UnreadableFile(_s3_reason(exc)) from None
        with body:
            yield from body.iter_chunks(chunk_size)

    def read_small(self, relative: str, limit: int = 1 << 20) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(
                Bucket=self.bucket, Key=self.prefix + relative, Range=f"bytes=0-{limit - 1}"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise BuildSizeError(f"reading {relative} of {self.where} failed: {_s3_reason(exc)}") from None
        return obj["Body"].read()


def builds_prefix(app: str) -> str:
    return f"builds/{app}/"


def list_build_ids(client, bucket: str, app: str) -> list[str]:
    """The build ids of ``app`` in the bucket, oldest first (natural order)."""
    from botocore.exceptions import ClientError

    prefix = builds_prefix(app)
    ids = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
        for page in pages:
            ids.extend(p["Prefix"][len(prefix) :].rstrip("/") for p in page.get("CommonPrefixes", ()))
    except ClientError as exc:
        raise BuildSizeError(
            f"listing builds of {app} in s3://{bucket}/{prefix} failed: {_s3_reason(exc)}"
        ) from None
    return sorted((i for i in ids if BUILD_ID.match(i)), key=natural_key)


def newest_build_id(client, bucket: str, app: str) -> str:
    ids = list_build_ids(client, bucket, app)
    if not ids:
        raise BuildNotFound(
            f"no builds of {app} under s3://{bucket}/{builds_prefix(app)}; "
            "CI uploads each build to builds/<app>/<build id>/"
        )
    return ids[-1]


def _s3_reason(exc) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
