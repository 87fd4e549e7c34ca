"""sla.yaml loading and validation, and monitor -> tenant mapping (from the config and from the platform DB)."""

from __future__ import annotations

import psycopg
import pytest

from reliability.core.config import ConfigError
from reliability.sla.config import load_config, parse_config
from reliability.sla.mapping import Assignment, Unmapped, mapping_from_config, tenant_plans_from_db
from reliability.sla.uptime import MaintenancePolicy

VALID = {"plans": {"free": 0.95, "pro": 0.99}}


def test_shipped_config_has_the_plan_targets_and_defaults():
    config = load_config()
    assert dict(config.plans) == {"free": 0.95, "pro": 0.99, "enterprise": 0.999}
    assert config.maintenance_policy is MaintenancePolicy.EXCLUDE
    assert config.mapping.name_pattern == "^(?P<tenant>[^/]+)/"
    assert config.cross_check_tolerance == 0.001
    assert config.target("enterprise") == 0.999
    with pytest.raises(
        ConfigError, match=r"plan 'gold' has no uptime target: .* \(known plans: enterprise, free, pro\)"
    ):
        config.target("gold")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"plans": {"pro": 1.5}}, "plans.pro must be an uptime target strictly between 0 and 1"),
        ({"plans": {"pro": "99%"}}, "plans.pro must be an uptime target"),
        ({"plans": {}}, "`plans` must map each plan"),
        ({"mapping": {"name_pattern": "^([^/]+)/"}}, "named group"),
        ({"mapping": {"name_pattern": "^(?P<tenant>[^/]+"}}, "not a valid regular expression"),
        ({"mapping": {"tenants": {"acme": "gold"}}}, "mapping.tenants.acme has plan 'gold'"),
        ({"mapping": {"monitors": {"not-an-id": "acme"}}}, "monitor ids"),
        ({"maintenance": {"policy": "ignore"}}, "maintenance.policy must be one of exclude, count_as_up"),
        ({"cross_check": {"tolerance": -1}}, "cross_check.tolerance"),
        ({"fetch": {"lookback_days": 0}}, "fetch.lookback_days"),
        ({"plan": {"pro": 0.99}}, "unknown key"),
    ],
)
def test_invalid_config_names_the_key_and_what_it_should_be(change, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({**VALID, **change}, origin="sla.yaml")


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "sla.yaml")


def test_monitor_maps_by_name_pattern_or_by_id():
    config = parse_config(
        {**VALID, "mapping": {"monitors": {42: "acme"}, "tenants": {"acme": "pro", "globex": "free"}}}
    )
    mapping = mapping_from_config(config)
    assert mapping.assign(7, "globex/globex.example.com") == Assignment("globex", "free")
    assert mapping.assign(42, "Legacy shop") == Assignment("acme", "pro")
    # the id wins over the name
    assert mapping.assign(42, "globex/shop.example.com") == Assignment("acme", "pro")


def test_monitor_of_no_known_tenant_is_unmapped_with_the_reason():
    mapping = mapping_from_config(parse_config({**VALID, "mapping": {"tenants": {"acme": "pro"}}}))
    unknown = mapping.assign(1, "internal/status.example.net")
    assert isinstance(unknown, Unmapped) and "'internal' is not a known tenant" in unknown.reason
    no_match = mapping.assign(2, "Legacy marketing site")
    assert isinstance(no_match, Unmapped) and "does not match" in no_match.reason


def test_tenant_on_a_plan_without_target_fails_the_mapping():
    with pytest.raises(ConfigError, match="acme \\(trial\\)"):
        mapping_from_config(parse_config(VALID), {"acme": "trial", "globex": "pro"})


def test_tenants_and_plans_come_from_the_platform_database(pg_cluster):
    dsn = pg_cluster.create_database("sla_platform_tenants")
    try:
        with psycopg.connect(dsn) as conn:
            conn.execute(
                "CREATE TABLE tenants (id bigserial PRIMARY KEY, slug text UNIQUE NOT NULL, name text NOT NULL,"
                " plan text NOT NULL)"
            )
            conn.execute(
                "INSERT INTO tenants (slug, name, plan) VALUES ('acme', 'Acme', 'pro'),"
                " ('globex', 'Globex', 'free')"
            )
        plans = tenant_plans_from_db(dsn)
        assert plans == {"acme": "pro", "globex": "free"}
        mapping = mapping_from_config(
            parse_config({**VALID, "mapping": {"tenants": {"other": "pro"}}}), plans
        )
        assert mapping.assign(3, "acme/acme-shop.example.com") == Assignment("acme", "pro")
        # with the database as the directory, the config's static list is not used
        assert isinstance(mapping.assign(4, "other/x.example.com"), Unmapped)
    finally:
        pg_cluster.drop_database("sla_platform_tenants")
