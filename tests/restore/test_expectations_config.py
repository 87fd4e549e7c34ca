"""A mistake in expectations.yaml is a configuration error found before the restore, naming file and line."""

from __future__ import annotations

import pytest

from reliability.core.config import ConfigError
from reliability.restore.declared import load_expectations
from reliability.restore.run import run_restore_test
from tests.restore.conftest import DATABASE, databases, with_config

TYPO = """\
tables:
  public.users:
    - expect_column_values_to_not_be_null: {column: email}
    - expect_column_values_to_be_in_set: {column: rolez, value_set: [owner, admin, editor, viewer]}
"""


def test_a_column_typo_is_a_configuration_error_before_anything_is_restored(
    settings, make_backup, expectations_file, pg_cluster
):
    path = expectations_file(TYPO)
    key = make_backup()

    outcome = run_restore_test(
        with_config(settings, expectations_file=path), DATABASE, interval_key="week-typo"
    )

    failure = outcome.summary["failure"]
    assert (failure["step"], failure["check"]) == ("choose_backup", "expectations_config")
    assert f"{path}, line 4: tables.public.users[1]" in failure["message"]
    assert "'rolez'" in failure["message"] and "role" in failure["message"]
    assert outcome.status == "failed" and outcome.alert and outcome.summary["configuration_error"]
    assert "configuration error" in outcome.headline and "FAILED at validate" not in outcome.headline
    assert outcome.summary["backup_key"] == key and outcome.summary["validation"] is None
    assert outcome.summary["rto_seconds"] is None  # nothing was downloaded or restored
    assert databases(pg_cluster) == set()
    # No verdict on the backup: the restore gauge is not pushed as a failure.
    assert "restore_success" not in {m.name for m in outcome.metrics}


def test_the_same_file_without_the_typo_passes_the_check(settings, make_backup, expectations_file):
    from datetime import UTC, datetime

    from reliability.restore.run import choose_step

    make_backup()
    fixed = with_config(settings, expectations_file=expectations_file(TYPO.replace("rolez", "role")))
    state = choose_step(fixed, DATABASE, "k", datetime.now(UTC))
    assert state.failure is None and state.backup is not None


@pytest.mark.parametrize(
    "entry, message",
    [
        ("expect_column_values_to_not_be_null: {column: [slug]}", "argument column must be a column name"),
        ("expect_column_values_to_be_in_set: {column: plan, value_set: free}", "value_set must be a list"),
        ("expect_column_values_to_be_between: {column: score, min_value: [0]}", "min_value must be a number"),
        ("expect_column_values_to_not_be_null: {column: slug, mostly: lots}", "mostly must be a fraction"),
        ("expect_column_values_to_not_be_null: {column: slug, mostly: 1.5}", "mostly must be a fraction"),
        ("expect_table_columns_to_match_set: {column_set: []}", "column_set must be a list of column names"),
    ],
)
def test_argument_types_are_checked_on_load_naming_file_and_line(tmp_path, entry, message):
    path = tmp_path / "expectations.yaml"
    path.write_text(
        f"# comment\ntables:\n  public.tenants:\n    - expect_column_values_to_not_be_null: {{column: id}}\n"
        f"    - {entry}\n"
    )
    with pytest.raises(ConfigError, match=message) as caught:
        load_expectations(path)
    assert str(caught.value).startswith(f"{path}, line 5: tables.public.tenants[1]: ")


def test_the_project_file_loads_with_lines_in_every_entry():
    from reliability.restore.config import load_config

    declared = load_expectations(load_config().expectations_path)
    assert declared and all(", line " in d.where for d in declared)
