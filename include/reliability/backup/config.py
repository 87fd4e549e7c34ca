"""The backup job's configuration (``include/config/backup.yaml``), validated on load.

Imported by the DAG file at parse time (for the database choices of the trigger form), so it imports
only PyYAML, which Airflow itself already loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reliability.backups.databases import DatabaseConfig, find_database, load_databases, parse_databases
from reliability.core.config import CONFIG_DIR, ConfigError, read_yaml

CONFIG_PATH = CONFIG_DIR / "backup.yaml"
FORMATS = ("custom", "directory")
_KEY_FIELDS = ("{database}", "{stamp}")
_FIELD_PATTERNS = {
    "database": "(?P<database>[^/]+)",
    "yyyy": r"\d{4}",
    "mm": r"\d{2}",
    "dd": r"\d{2}",
    "stamp": r"\d{8}T\d{6}Z",
}


def _template_parts(template: str) -> list[tuple[str, str | None]]:
    """``"a/{x}/b"`` -> ``[("a/", "x"), ("/b", None)]``."""
    import string

    return [(literal, name) for literal, name, _, _ in string.Formatter().parse(template)]


@dataclass(frozen=True)
class DumpOptions:
    format: str = "custom"
    compression: int = 6
    jobs: int = 2

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ConfigError(f"dump format {self.format!r} is not one of {FORMATS}")
        if not 0 <= self.compression <= 9:
            raise ConfigError(f"compression level {self.compression} is outside 0..9")
        if not 1 <= self.jobs <= 32:
            raise ConfigError(f"parallel jobs {self.jobs} is outside 1..32")


@dataclass(frozen=True)
class VerifyThresholds:
    size_drop_ratio: float = 0.5
    rows_drop_ratio: float = 0.5
    history_dumps: int = 7
    history_days: int = 14
    large_table_min_rows: int = 1000

    def __post_init__(self):
        for name in ("size_drop_ratio", "rows_drop_ratio"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(
                    f"verify.{name} must be between 0 and 1 (exclusive), got {getattr(self, name)}"
                )
        if self.history_dumps < 1 or self.history_days < 1:
            raise ConfigError("verify.history_dumps and verify.history_days must be at least 1")
        if self.large_table_min_rows < 1:
            raise ConfigError("verify.large_table_min_rows must be at least 1")


@dataclass(frozen=True)
class BackupConfig:
    databases: tuple[DatabaseConfig, ...]
    key_template: str = "backups/{database}/{yyyy}/{mm}/{dd}/{database}-{stamp}.dump"
    part_size_bytes: int = 8 * 1024 * 1024
    dump: DumpOptions = field(default_factory=DumpOptions)
    verify: VerifyThresholds = field(default_factory=VerifyThresholds)

    def __post_init__(self):
        if not self.databases:
            raise ConfigError("no databases configured: add at least one under `databases:`")
        names = [d.name for d in self.databases]
        if len(set(names)) != len(names):
            raise ConfigError(f"database names must be unique, got {names}")
        missing = [f for f in _KEY_FIELDS if f not in self.key_template]
        if missing:
            raise ConfigError(
                f"s3.key_template {self.key_template!r} lacks {', '.join(missing)}: "
                "keys of different databases or nights would collide"
            )
        # S3 refuses parts under 5 MiB (except the last) and allows 10,000 parts per upload.
        if not 5 * 1024 * 1024 <= self.part_size_bytes <= 5 * 1024**3:
            raise ConfigError(f"part size {self.part_size_bytes} bytes is outside S3's 5 MiB..5 GiB")

    def database(self, name: str) -> DatabaseConfig:
        return find_database(self.databases, name, "backup")

    def dump_key(self, database: str, when: datetime, fmt: str) -> str:
        when = when.astimezone(UTC)
        key = self.key_template.format(
            database=database,
            yyyy=f"{when:%Y}",
            mm=f"{when:%m}",
            dd=f"{when:%d}",
            stamp=f"{when:%Y%m%dT%H%M%SZ}",
        )
        return key + ".tar" if fmt == "directory" else key

    def _prefix_template(self) -> tuple[str, bool]:
        """The template up to the first ``/`` after ``{database}`` (``backups/{database}/`` by default),
        or the whole template when no ``/`` follows (then it is the whole key, not a prefix)."""
        head, _, tail = self.key_template.partition("{database}")
        slash = tail.find("/")
        return head + "{database}" + (tail[: slash + 1] if slash >= 0 else tail), slash < 0

    def database_prefix(self, name: str) -> str:
        """Where the keys of database ``name`` start, e.g. ``backups/platform/``."""
        return self._prefix_template()[0].replace("{database}", name)

    def database_prefix_pattern(self) -> re.Pattern:
        prefix, whole = self._prefix_template()
        pattern = "".join(
            re.escape(literal) + (_FIELD_PATTERNS.get(name, "[^/]*") if name else "")
            for literal, name in _template_parts(prefix)
        )
        return re.compile("^" + pattern + (r"(\.tar)?$" if whole else ""))

    def key_database(self, key: str) -> str | None:
        """The database a key belongs to by the key layout, or None when it is under no database's prefix."""
        match = self.database_prefix_pattern().match(key)
        return match.group("database") if match else None


def parse_config(data: dict[str, Any], source: str = "backup config") -> BackupConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping")
    try:
        s3 = data.get("s3") or {}
        dump = data.get("dump") or {}
        verify = data.get("verify") or {}
        unknown = set(verify) - set(VerifyThresholds.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"verify has unknown keys {sorted(unknown)}")
        return BackupConfig(
            databases=parse_databases(data["databases"], source) if "databases" in data else load_databases(),
            key_template=str(s3.get("key_template", BackupConfig.key_template)),
            part_size_bytes=int(float(s3.get("part_size_mib", 8)) * 1024 * 1024),
            dump=DumpOptions(
                format=str(dump.get("format", "custom")),
                compression=int(dump.get("compression", 6)),
                jobs=int(dump.get("jobs", 2)),
            ),
            verify=VerifyThresholds(**{k: type(getattr(VerifyThresholds, k))(v) for k, v in verify.items()}),
        )
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: malformed value: {exc}") from None


def load_config(path: str | Path | None = None) -> BackupConfig:
    """``backup.yaml``; the databases come from the shared ``databases.yaml`` (or a ``databases`` key here)."""
    path = Path(path or CONFIG_PATH)
    return parse_config(read_yaml(path, "backup config"), str(path))
