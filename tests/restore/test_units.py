"""Pure pieces: config validation, pg_restore's TOC, table names, state through XCom, crash attribution."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from reliability.backups.names import split_qualified
from reliability.core.config import ConfigError
from reliability.restore.choose import ChosenBackup
from reliability.restore.config import load_config, parse_config
from reliability.restore.declared import load_expectations, parse_expectations
from reliability.restore.restore import parse_toc
from reliability.restore.state import Failure, RunState, final_state

T0 = datetime(2026, 11, 29, 4, tzinfo=UTC)


def test_project_config_and_expectations_load():
    config = load_config()
    assert config.scratch_prefix == "restore_test_" and config.database("platform")
    declared = load_expectations(config.expectations_path)
    assert any(
        d.table == "public.tenants" and d.type == "expect_column_values_to_be_in_set" for d in declared
    )


def test_project_expectations_are_valid_great_expectations():
    from reliability.restore.expectations import build_declared

    built = build_declared(load_expectations(load_config().expectations_path))
    assert len(built) >= 8


@pytest.mark.parametrize(
    "change, message",
    [
        ({"scratch": {"prefix": ""}}, "scratch.prefix"),
        ({"scratch": {"prefix": "db_"}}, "scratch.prefix"),
        ({"scratch": {"prfix": "x"}}, "unknown keys \\['prfix'\\]"),
        ({"targets": {"rto_seconds": -1}}, "rto_seconds must be positive"),
        ({"restore": {"jobs": 0}}, "restore.jobs 0"),
        ({"databases": []}, "no databases"),
        ({"validate": {"amcheck": "yes"}}, "validate.amcheck must be true or false"),
    ],
)
def test_bad_config_is_refused_with_the_key_named(change, message):
    data = {"databases": [{"name": "platform"}], **change}
    with pytest.raises(ConfigError, match=message):
        parse_config(data, source="restore.yaml")


def test_unknown_expectation_type_or_argument_names_the_entry():
    from reliability.restore.expectations import build_declared

    with pytest.raises(ConfigError, match=r"e.yaml: tables.public.t\[0\]: expect_nothing_at_all is not"):
        build_declared(
            parse_expectations({"tables": {"public.t": [{"expect_nothing_at_all": {}}]}}, "e.yaml")
        )
    with pytest.raises(ConfigError, match=r"tables.public.t\[1\]: invalid arguments .*value_set"):
        build_declared(
            parse_expectations(
                {
                    "tables": {
                        "public.t": [
                            {"expect_column_values_to_not_be_null": {"column": "a"}},
                            {"expect_column_values_to_be_in_set": {"column": "a"}},
                        ]
                    }
                },
                "e.yaml",
            )
        )
    with pytest.raises(ConfigError, match="schema.table"):
        parse_expectations({"tables": {"tenants": []}}, "e.yaml")


def test_toc_listing_is_parsed_with_names_holding_spaces():
    listing = """;
; Archive created at 2026-11-29 02:00:00 UTC
3440; 0 16436 TABLE DATA public pageviews reliability
3441; 0 16437 TABLE DATA public Odd Name reliability
3268; 2606 16444 CONSTRAINT public pageviews pageviews_pkey reliability
3454; 1262 16384 DATABASE - platform reliability
"""
    toc = parse_toc(listing)
    assert toc[3440].describe() == "TABLE DATA public.pageviews"
    assert (toc[3441].schema, toc[3441].name) == ("public", "Odd Name")
    assert toc[3268].kind == "CONSTRAINT"


@pytest.mark.parametrize(
    "name, parts",
    [
        ("public.pageviews", ("public", "pageviews")),
        ('public."Odd.Name"', ("public", "Odd.Name")),
        ('"My Schema"."Say ""hi"""', ("My Schema", 'Say "hi"')),
        ("tenants", ("public", "tenants")),
    ],
)
def test_manifest_table_names_are_split_like_pg_dump_quotes_them(name, parts):
    assert split_qualified(name) == parts


def test_run_state_survives_xcom_json_and_holds_no_connection_string():
    state = RunState(
        database="platform",
        interval_key="k",
        started_at=T0,
        scratch_name="restore_test_platform_202611290400",
        backup=ChosenBackup(
            "platform", "backups/platform/x.dump", "a" * 64, 10, "custom", T0, "verified", "s3", 8, 100
        ),
        failure=Failure("validate", "digest", "differs", "public.tenants"),
        timings={"restore": 1.5},
    )
    data = json.loads(json.dumps(state.to_dict()))
    assert RunState.from_dict(data) == state
    assert "dsn" not in json.dumps(data) and "postgresql://" not in json.dumps(data)


def test_a_step_that_never_reported_is_named_as_crashed():
    chosen = RunState(database="platform", interval_key="k", started_at=T0, scratch_name="s")
    state = final_state(
        [
            ("choose_backup", chosen),
            ("download_and_check", chosen),
            ("create_scratch_database", None),
            ("restore", None),
            ("validate", None),
        ],
        None,
    )
    assert (state.failure.step, state.failure.check) == ("create_scratch_database", "crashed")
    failed = RunState(
        database="platform",
        interval_key="k",
        started_at=T0,
        scratch_name="s",
        failure=Failure("choose_backup", "rpo_window", "too old"),
    )
    state = final_state([("choose_backup", failed), ("download_and_check", None)], None)
    assert state.failure.check == "rpo_window"  # the finding, not the crash it caused downstream
