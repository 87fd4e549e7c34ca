"""The restore test's configuration (``include/config/restore.yaml``), validated on load.

Imported by the DAG file at parse time (for the database choices of the trigger form), so it imports
only PyYAML, which Airflow itself already loads. The expectations file is read by
:mod:`reliability.restore.declared`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reliability.backups.databases import DatabaseConfig, find_database, load_databases, parse_databases
from reliability.core.config import CONFIG_DIR, ConfigError, read_yaml

CONFIG_PATH = CONFIG_DIR / "restore.yaml"
# A prefix that is empty, or could match ordinary database names, would let the sweeper and the teardown
# drop databases they did not create: it must be a lowercase word ending in '_', at least 5 characters.
_PREFIX = re.compile(r"^[a-z][a-z0-9_]{3,30}_$")


@dataclass(frozen=True)
class RestoreConfig:
    databases: tuple[DatabaseConfig, ...]
    rto_seconds: float = 3600.0
    rpo_seconds: float = 93600.0
    backup_prefix: str = "backups/{database}/"
    scratch_conn_id: str = "reliability_scratch_db"
    scratch_prefix: str = "restore_test_"
    keep_on_failure: bool = False
    sweep_after_hours: float = 24.0
    jobs: int = 2
    download_dir: str = ""
    digest_workers: int = 2
    digest_during_restore: bool = False
    amcheck: bool = True
    heapallindexed: bool = True
    expectations_file: str = "expectations.yaml"
    source: str = "restore config"  # where it was read from, for error messages

    def __post_init__(self):
        if not self.databases:
            raise ConfigError(f"{self.source}: no databases configured: add at least one under `databases:`")
        names = [d.name for d in self.databases]
        if len(set(names)) != len(names):
            raise ConfigError(f"{self.source}: database names must be unique, got {names}")
        if not _PREFIX.match(self.scratch_prefix):
            raise ConfigError(
                f"{self.source}: scratch.prefix {self.scratch_prefix!r} must be 5-32 lowercase "
                "letters, digits or '_', start with a letter and end with '_' (it is what makes a "
                "database safe to drop)"
            )
        if "{database}" not in self.backup_prefix:
            raise ConfigError(f"{self.source}: backups.prefix {self.backup_prefix!r} lacks {{database}}")
        for name, value in (("restore.jobs", self.jobs), ("validate.digest_workers", self.digest_workers)):
            if not 1 <= value <= 32:
                raise ConfigError(f"{self.source}: {name} {value} is outside 1..32")
        for name in ("rto_seconds", "rpo_seconds", "sweep_after_hours"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{self.source}: {name} must be positive, got {getattr(self, name)}")

    def database(self, name: str) -> DatabaseConfig:
        return find_database(self.databases, name, "restore test")

    def rto_target(self, database: str) -> float:
        own = self.database(database).rto_seconds
        return own if own is not None else self.rto_seconds

    def rpo_target(self, database: str) -> float:
        own = self.database(database).rpo_seconds
        return own if own is not None else self.rpo_seconds

    def prefix_for(self, database: str) -> str:
        return self.backup_prefix.format(database=database)

    @property
    def expectations_path(self) -> Path:
        path = Path(self.expectations_file)
        return path if path.is_absolute() else CONFIG_DIR / path


def _known(section: str, raw: dict[str, Any], allowed: set[str], source: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(
            f"{source}: {section} has unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}"
        )


def _section(data: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: `{name}` must be a mapping")
    return value


def _flag(section: dict[str, Any], key: str, default: bool, where: str, source: str) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: {where}.{key} must be true or false, got {value!r}")
    return value


def parse_config(data: Any, source: str = "restore config") -> RestoreConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping")
    _known(
        "the top level", data, {"databases", "targets", "backups", "scratch", "restore", "validate"}, source
    )
    targets, backups, scratch, restore, validate = (
        _section(data, name, source) for name in ("targets", "backups", "scratch", "restore", "validate")
    )
    _known("targets", targets, {"rto_seconds", "rpo_seconds"}, source)
    _known("backups", backups, {"prefix"}, source)
    _known("scratch", scratch, {"conn_id", "prefix", "keep_on_failure", "sweep_after_hours"}, source)
    _known("restore", restore, {"jobs", "download_dir"}, source)
    _known(
        "validate",
        validate,
        {"digest_workers", "digest_during_restore", "amcheck", "heapallindexed", "expectations_file"},
        source,
    )
    databases = parse_databases(data["databases"], source) if "databases" in data else load_databases()
    try:
        return RestoreConfig(
            databases=databases,
            rto_seconds=float(targets.get("rto_seconds", RestoreConfig.rto_seconds)),
            rpo_seconds=float(targets.get("rpo_seconds", RestoreConfig.rpo_seconds)),
            backup_prefix=str(backups.get("prefix", RestoreConfig.backup_prefix)),
            scratch_conn_id=str(scratch.get("conn_id", RestoreConfig.scratch_conn_id)),
            scratch_prefix=str(scratch.get("prefix", RestoreConfig.scratch_prefix)),
            keep_on_failure=_flag(scratch, "keep_on_failure", False, "scratch", source),
            sweep_after_hours=float(scratch.get("sweep_after_hours", RestoreConfig.sweep_after_hours)),
            jobs=int(restore.get("jobs", RestoreConfig.jobs)),
            download_dir=str(restore.get("download_dir") or ""),
            digest_workers=int(validate.get("digest_workers", RestoreConfig.digest_workers)),
            digest_during_restore=_flag(validate, "digest_during_restore", False, "validate", source),
            amcheck=_flag(validate, "amcheck", True, "validate", source),
            heapallindexed=_flag(validate, "heapallindexed", True, "validate", source),
            expectations_file=str(validate.get("expectations_file", RestoreConfig.expectations_file)),
            source=source,
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{source}: malformed value: {exc}") from None


def load_config(path: str | Path | None = None) -> RestoreConfig:
    path = Path(path or CONFIG_PATH)
    return parse_config(read_yaml(path, "restore config"), str(path))
