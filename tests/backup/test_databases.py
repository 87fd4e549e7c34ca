"""One list of databases for backup, checksum and restore (include/config/databases.yaml)."""

from __future__ import annotations

import pytest

from reliability.backup.config import load_config as load_backup_config
from reliability.backups.databases import load_databases
from reliability.core.config import ConfigError
from reliability.restore.config import load_config as load_restore_config


def test_backup_and_restore_read_the_same_database_list():
    shared = load_databases()
    assert [d.name for d in shared] == ["platform"]
    assert load_backup_config().databases == shared
    assert load_restore_config().databases == shared


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("databases: []\n", "no databases configured"),
        ("databases:\n  - name: Platform\n", "lowercase letters"),
        ("databases:\n  - name: a\n  - name: a\n", "must be unique"),
        ("databases:\n  - name: a\n    conn: x\n", r"unknown keys \['conn'\]"),
        ("databases:\n  - name: a\n    rpo_seconds: -1\n", "must be positive"),
        ("databases:\n  - name: a\n   bad: [\n", "line 3"),
        ("other: 1\n", "exactly one key"),
    ],
)
def test_a_bad_database_list_is_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "databases.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_databases(path)
    assert str(path) in str(caught.value)


def test_an_unconfigured_database_is_refused_naming_the_job_and_the_list():
    backup, restore = load_backup_config(), load_restore_config()
    assert backup.database("platform") == restore.database("platform")
    with pytest.raises(
        ConfigError, match=r"'nope' is not configured for the restore test; configured: \['platform'"
    ):
        restore.database("nope")
    with pytest.raises(ConfigError, match=r"not configured for the backup; .*databases\.yaml"):
        backup.database("nope")
