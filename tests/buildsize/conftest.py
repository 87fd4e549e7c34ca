"""Helpers for the build-size tests: builds written to folders, budget files from text."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reliability.buildsize.config import load_config, parse_config


def _write_build(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return root


@pytest.fixture
def write_build():
    """``write_build(folder, {relative path: bytes})`` -> folder."""
    return _write_build


@pytest.fixture
def budgets():
    """``budgets(yaml text, source=...)`` -> the parsed :class:`BudgetConfig`."""
    return lambda text, source="budgets.yaml": parse_config(textwrap.dedent(text), source)


@pytest.fixture(scope="session")
def repo_config():
    return load_config()


@pytest.fixture
def results_conn(results_dsn):
    from reliability.core.store import connect

    with connect(results_dsn, autocommit=True) as conn:
        yield conn
