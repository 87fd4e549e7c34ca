"""The expectations declared in ``include/config/expectations.yaml``, checked as far as they can be early.

Three stages, each naming the file, the line and the entry: the structure and the argument types on
load (no Great Expectations import: the file is read by the first task, before anything is downloaded);
the columns against the chosen backup's manifest, before the restore (:func:`check_columns`); the rest
of GX's own argument validation when the suites are built (:mod:`reliability.restore.expectations`).
A failure at any stage is a configuration error for the operator, never a verdict on the backup.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reliability.backups.manifest import Manifest
from reliability.backups.names import split_qualified
from reliability.core.config import ConfigError, parse_yaml, read_text

_EXPECTATION = re.compile(r"^expect_[a-z0-9_]+$")
# Arguments whose type is the same in every GX expectation that takes them; others are left to GX.
_COLUMN_ARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_ARGS = ("column_list", "column_set")
_BOUNDS = ("min_value", "max_value", "value")
_FLAGS = ("strict_min", "strict_max", "ignore_row_if", "parse_strings_as_datetimes")


@dataclass(frozen=True)
class DeclaredExpectation:
    """One expectation from ``expectations.yaml``: a GX type in snake_case and its arguments."""

    table: str  # schema.table as in the manifest
    type: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    where: str = ""  # "<file>, line <n>: tables.<table>[<index>]" for error messages

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the expectation reads (as its arguments name them)."""
        named = [self.kwargs[k] for k in _COLUMN_ARGS if isinstance(self.kwargs.get(k), str)]
        for key in _COLUMN_LIST_ARGS:
            named += [c for c in self.kwargs.get(key) or () if isinstance(c, str)]
        return tuple(named)


def _check_arguments(kind: str, kwargs: dict[str, Any], where: str) -> None:
    """Argument types that need no GX to judge: a typo here must not wait for the restore."""

    def bad(key: str, wanted: str) -> ConfigError:
        return ConfigError(f"{where}: {kind} argument {key} must be {wanted}, got {kwargs[key]!r}")

    for key, value in kwargs.items():
        if not isinstance(key, str):
            raise ConfigError(f"{where}: {kind} has an argument name {key!r} that is not a word")
        if key in _COLUMN_ARGS and not (isinstance(value, str) and value):
            raise bad(key, "a column name")
        if key in _COLUMN_LIST_ARGS and not (
            isinstance(value, list) and value and all(isinstance(c, str) and c for c in value)
        ):
            raise bad(key, "a list of column names")
        if key == "value_set" and not isinstance(value, list):
            raise bad(key, "a list of values")
        if key in _BOUNDS and (
            isinstance(value, (bool, list, dict))
            or not isinstance(value, (int, float, str, dt.date, type(None)))
        ):
            raise bad(key, "a number, a date or null")
        if key == "mostly" and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1
        ):
            raise bad(key, "a fraction between 0 and 1")
        if key in _FLAGS[:2] and not isinstance(value, bool):
            raise bad(key, "true or false")
        if key == "regex" and not isinstance(value, str):
            raise bad(key, "a regular expression")


def parse_expectations(
    data: Any, source: str = "expectations config", lines: dict[tuple[str, int], int] | None = None
) -> tuple[DeclaredExpectation, ...]:
    """The declared expectations, structure- and type-checked; ``lines`` maps (table, index) to its line."""
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping with a `tables` key")
    if set(data) - {"tables"}:
        raise ConfigError(
            f"{source}: the top level has unknown keys {sorted(set(data) - {'tables'})}; allowed: ['tables']"
        )
    tables = data.get("tables") or {}
    if not isinstance(tables, dict):
        raise ConfigError(f"{source}: `tables` must map schema.table to a list of expectations")
    found = []
    for table, items in tables.items():
        if not isinstance(table, str) or "." not in table:
            raise ConfigError(f"{source}: table {table!r} must be written schema.table, e.g. public.tenants")
        if not isinstance(items, list):
            raise ConfigError(f"{source}: tables.{table} must be a list of expectations")
        for index, item in enumerate(items):
            line = (lines or {}).get((table, index))
            where = f"{source}{f', line {line}' if line else ''}: tables.{table}[{index}]"
            if not isinstance(item, dict) or len(item) != 1:
                raise ConfigError(f"{where} must be one `expect_...: {{arguments}}` mapping, got {item!r}")
            ((kind, kwargs),) = item.items()
            if not isinstance(kind, str) or not _EXPECTATION.match(kind):
                raise ConfigError(f"{where}: {kind!r} is not an expectation type (expect_... in snake_case)")
            if kwargs is None:
                kwargs = {}
            if not isinstance(kwargs, dict):
                raise ConfigError(f"{where}: the arguments of {kind} must be a mapping, got {kwargs!r}")
            _check_arguments(kind, kwargs, where)
            found.append(DeclaredExpectation(table=table, type=kind, kwargs=dict(kwargs), where=where))
    return tuple(found)


def _entry_lines(text: str) -> dict[tuple[str, int], int]:
    """(table, index) -> line of each entry under ``tables:``, from the YAML node tree."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}  # parse_yaml has reported it already
    lines: dict[tuple[str, int], int] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        if key.value != "tables" or not isinstance(value, yaml.MappingNode):
            continue
        for table, items in value.value:
            if isinstance(items, yaml.SequenceNode):
                for index, item in enumerate(items.value):
                    lines[(table.value, index)] = item.start_mark.line + 1
    return lines


def load_expectations(path: str | Path) -> tuple[DeclaredExpectation, ...]:
    text = read_text(path, "expectations config")
    return parse_expectations(parse_yaml(text, str(path)), str(path), _entry_lines(text))


def check_columns(declared: tuple[DeclaredExpectation, ...], manifest: Manifest) -> None:
    """Every column a declared expectation names exists in its table in the backup (:class:`ConfigError`).

    Tables the backup does not hold are skipped here (and reported as skipped after the validation);
    manifests without column lists (older backups) cannot be checked.
    """
    tables = {split_qualified(name): entry for name, entry in manifest.tables.items()}
    for item in declared:
        entry = tables.get(split_qualified(item.table))
        if entry is None or not entry.columns:
            continue
        missing = [c for c in item.columns if c not in entry.columns]
        if missing:
            raise ConfigError(
                f"{item.where}: {item.type} names column {', '.join(map(repr, missing))}, which table "
                f"{item.table} does not have in the backup (its columns: {', '.join(entry.columns)})"
            )
