"""One way to read a job's YAML configuration, and one error for a configuration that is wrong.

Every message names the file (and the line, where the YAML parser or a node tree knows it), so an
operator can fix the file without reading code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

K = TypeVar("K")
V = TypeVar("V")


class ConfigError(ValueError):
    """A configuration file is missing, not valid YAML, or holds a value the job cannot use."""


def read_yaml(path: str | Path, what: str = "config file") -> Any:
    """The parsed YAML of ``path``; a missing file or a syntax error is a :class:`ConfigError` naming the line."""
    return parse_yaml(read_text(path, what), str(path))


def read_text(path: str | Path, what: str = "config file") -> str:
    """The text of ``path`` (for a parser that wants the text, e.g. to tell lines); a file that is missing
    or cannot be read is a :class:`ConfigError` naming it and ``what`` it is."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {what} cannot be read: {exc.strerror or exc}") from None


def parse_yaml(text: str, source: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source) from None


def yaml_error(exc: Exception, source: str) -> ConfigError:
    mark = getattr(exc, "problem_mark", None)
    where = f", line {mark.line + 1}" if mark else ""
    return ConfigError(f"{source}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}")


def lookup(mapping: Mapping[K, V], key: K, missing: Callable[[list[K]], str]) -> V:
    """``mapping[key]``; a key that is not there is a :class:`ConfigError` with the message
    ``missing(configured keys)`` builds, so that a wrong name says what the choices are."""
    try:
        return mapping[key]
    except KeyError:
        raise ConfigError(missing(list(mapping))) from None
