from datetime import UTC, datetime

import pytest

from reliability.backup.config import CONFIG_PATH, ConfigError, load_config, parse_config
from reliability.backup.models import RequestError
from reliability.backup.run import plan_requests


def test_shipped_config_loads():
    config = load_config(CONFIG_PATH)
    assert [d.name for d in config.databases] == ["platform"]
    assert config.databases[0].conn_id == "reliability_source_db"


def test_dump_keys_follow_the_layout():
    config = load_config()
    when = datetime(2026, 1, 2, 2, 0, 5, tzinfo=UTC)
    assert (
        config.dump_key("platform", when, "custom")
        == "backups/platform/2026/01/02/platform-20260102T020005Z.dump"
    )
    assert config.dump_key("platform", when, "directory").endswith("platform-20260102T020005Z.dump.tar")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"databases": []}, "no databases configured"),
        ({"databases": [{"name": "Platform!"}]}, "must be lowercase"),
        ({"databases": [{"name": "a"}, {"name": "a"}]}, "must be unique"),
        ({"databases": [{"name": "a", "exclude_tables": ["nodot"]}]}, "schema.table"),
        ({"databases": [{"name": "a"}], "s3": {"key_template": "backups/{database}.dump"}}, "lacks {stamp}"),
        ({"databases": [{"name": "a"}], "s3": {"part_size_mib": 1}}, "outside S3's 5 MiB"),
        ({"databases": [{"name": "a"}], "dump": {"compression": 12}}, "outside 0..9"),
        ({"databases": [{"name": "a"}], "dump": {"format": "tar"}}, "is not one of"),
        ({"databases": [{"name": "a"}], "verify": {"size_drop_ratio": 1.5}}, "between 0 and 1"),
        ({"databases": [{"name": "a"}], "verify": {"size_drop": 0.5}}, "unknown keys"),
    ],
)
def test_invalid_config_is_refused_with_the_reason(data, message):
    with pytest.raises(
        ConfigError, match=message.replace("{", r"\{").replace("}", r"\}").replace(".", r"\.")
    ):
        parse_config(data)


def test_verify_only_key_picks_its_database_from_the_key():
    config = parse_config({"databases": [{"name": "platform"}, {"name": "billing"}]})
    (request,) = plan_requests(config, interval_key="k", verify_only_key="backups/billing/2026/01/02/x.dump")
    assert request.database == "billing" and request.mode == "verify"
    # A key under no configured database's prefix is an error of that request, never attributed to the
    # one database chosen in the form (that overwrote its gauges: issue 15, defect 4).
    for key in ("elsewhere/x.dump", "backups/nonexistent/2026/01/02/x.dump", "../../etc/passwd"):
        with pytest.raises(RequestError, match="verify-only key"):
            plan_requests(config, interval_key="k", databases=["platform"], verify_only_key=key)


def test_the_database_of_a_key_follows_the_configured_key_template():
    config = parse_config(
        {"databases": [{"name": "platform"}], "s3": {"key_template": "{yyyy}/{database}-{stamp}.dump"}}
    )
    assert config.key_database("2026/platform-20260102T020000Z.dump.tar") == "platform"
    assert config.key_database("2026/platform-x.dump") is None
    assert load_config().database_prefix("platform") == "backups/platform/"


def test_unknown_database_in_params_is_refused():
    with pytest.raises(ConfigError, match="is not configured"):
        plan_requests(load_config(), interval_key="k", databases=["nope"])
