"""The one list of platform databases that backup, checksum and restore share (``databases.yaml``).

Imported by DAG files at parse time (the trigger forms offer these names): PyYAML only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reliability.core.config import CONFIG_DIR, ConfigError, lookup, read_yaml

DATABASES_PATH = CONFIG_DIR / "databases.yaml"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,62}$")
_KEYS = {"name", "conn_id", "dbname", "exclude_tables", "rto_seconds", "rpo_seconds"}


@dataclass(frozen=True)
class DatabaseConfig:
    name: str
    conn_id: str = "reliability_source_db"
    dbname: str | None = None
    exclude_tables: tuple[str, ...] = ()
    rto_seconds: float | None = None  # None: the restore test's default target
    rpo_seconds: float | None = None


def parse_databases(raw: Any, source: str) -> tuple[DatabaseConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            f"{source}: `databases` must be a non-empty list: no databases configured, add at least one"
        )
    databases = tuple(_database(item, index, source) for index, item in enumerate(raw))
    names = [d.name for d in databases]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: database names must be unique, got {names}")
    return databases


def load_databases(path: str | Path | None = None) -> tuple[DatabaseConfig, ...]:
    path = Path(path or DATABASES_PATH)
    data = read_yaml(path, "databases list")
    if not isinstance(data, dict) or set(data) != {"databases"}:
        raise ConfigError(f"{path}: must hold exactly one key, `databases`")
    return parse_databases(data["databases"], str(path))


def _database(raw: Any, index: int, source: str) -> DatabaseConfig:
    if not isinstance(raw, dict) or "name" not in raw:
        raise ConfigError(f"{source}: databases[{index}] must be a mapping with at least `name`")
    name = str(raw["name"])
    if not _NAME.match(name):
        raise ConfigError(
            f"{source}: databases[{index}].name {name!r} must be lowercase letters, digits, '_' or '-' "
            "(it becomes a metric label, an S3 key part and an Asset name)"
        )
    unknown = set(raw) - _KEYS
    if unknown:
        raise ConfigError(
            f"{source}: databases[{index}] ({name}) has unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}"
        )
    excludes = raw.get("exclude_tables") or []
    if not isinstance(excludes, list) or not all(isinstance(p, str) and "." in p for p in excludes):
        raise ConfigError(
            f"{source}: databases[{index}].exclude_tables must be a list of `schema.table` patterns"
        )
    try:
        targets = {
            k: float(raw[k]) if raw.get(k) is not None else None for k in ("rto_seconds", "rpo_seconds")
        }
    except (TypeError, ValueError):
        raise ConfigError(
            f"{source}: databases[{index}] ({name}): rto_seconds/rpo_seconds must be numbers"
        ) from None
    if any(v is not None and v <= 0 for v in targets.values()):
        raise ConfigError(f"{source}: databases[{index}] ({name}): rto_seconds/rpo_seconds must be positive")
    return DatabaseConfig(
        name=name,
        conn_id=str(raw.get("conn_id", "reliability_source_db")),
        dbname=raw.get("dbname"),
        exclude_tables=tuple(excludes),
        **targets,
    )


def find_database(databases: tuple[DatabaseConfig, ...], name: str, job: str) -> DatabaseConfig:
    """The configured database ``name``; a clear ConfigError naming what is configured otherwise."""
    return lookup(
        {db.name: db for db in databases},
        name,
        lambda known: (
            f"database {name!r} is not configured for the {job}; configured: "
            f"{known} (add it to {DATABASES_PATH.name})"
        ),
    )
