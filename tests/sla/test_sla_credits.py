"""Service credits: the tiers of sla.yaml's ``credits:`` section, validated with file and line, applied."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from reliability.core.config import ConfigError
from reliability.sla.config import load_config
from reliability.sla.credits import (
    METRIC,
    CreditTier,
    credit_metrics,
    load_credits,
    parse_credits,
    plan_credits,
    tenant_credits,
)

PLANS = "plans:\n  free: 0.95\n  pro: 0.99\n  enterprise: 0.999\n"
TIERS = (
    PLANS
    + "credits:\n"
    + "  enterprise:\n"
    + "    - {below: 0.99, credit_percent: 25}\n"
    + "    - {below: 0.999, credit_percent: 10}\n"
    + "  pro:\n"
    + "    - {below: 0.99, credit_percent: 10}\n"
)


def _row(tenant, plan, uptime, kind="final"):
    return SimpleNamespace(period="2026-11", kind=kind, tenant=tenant, plan=plan, uptime_ratio=uptime)


def test_the_shipped_config_has_credits_and_still_loads_as_sla_config():
    policy = load_credits()
    assert policy.tiers["enterprise"][0] == CreditTier(0.999, 0.10)
    assert "free" not in policy.tiers
    assert load_config().plans["enterprise"] == 0.999  # the sla config accepts the credits section


@pytest.mark.parametrize(
    "plan, uptime, expected",
    [
        ("enterprise", 0.9995, 0.0),  # above every tier
        ("enterprise", 0.999, 0.0),  # exactly at the threshold: not below it
        ("enterprise", 0.9989, 0.10),
        ("enterprise", 0.98, 0.25),  # below both tiers: the larger credit
        ("pro", 0.5, 0.10),
        ("free", 0.5, 0.0),  # a plan without tiers owes nothing
        ("enterprise", None, 0.0),  # no data owes nothing
    ],
)
def test_credit_is_the_largest_tier_the_uptime_is_below(plan, uptime, expected):
    (credit,) = tenant_credits([_row("t", plan, uptime)], parse_credits(TIERS, "sla.yaml"))
    assert credit.credit_ratio == expected
    assert (credit.below_ratio is None) == (expected == 0.0)


def test_credits_per_plan_and_as_gauges():
    policy = parse_credits(TIERS, "sla.yaml")
    credits = tenant_credits(
        [
            _row("acme", "enterprise", 0.98),
            _row("hooli", "enterprise", 0.9985),
            _row("globex", "enterprise", 0.9999),
            _row("umbrella", "pro", None),
        ],
        policy,
    )
    by_plan = {p.plan: p for p in plan_credits(credits)}
    assert (by_plan["enterprise"].tenants, by_plan["enterprise"].tenants_owed) == (3, 2)
    assert by_plan["enterprise"].credit_ratio_total == pytest.approx(0.35)
    assert by_plan["pro"].tenants_owed == 0
    gauges = {m.labels["tenant"]: m for m in credit_metrics(credits)}
    assert set(gauges) == {"acme", "hooli", "globex"}  # no data: no series
    assert gauges["acme"].name == METRIC and gauges["acme"].value == 0.25
    assert gauges["globex"].value == 0.0
    assert gauges["acme"].labels == {"tenant": "acme", "plan": "enterprise", "period": "2026-11"}


def test_no_credits_section_means_no_credits():
    assert dict(parse_credits(PLANS, "sla.yaml").tiers) == {}


@pytest.mark.parametrize(
    "section, line, message",
    [
        ("  gold:\n    - {below: 0.99, credit_percent: 10}\n", 6, "plan 'gold' is not under `plans:`"),
        (
            "  pro:\n    - {below: 1.5, credit_percent: 10}\n",
            7,
            "credits.pro[0].below must be an uptime ratio",
        ),
        ("  pro:\n    - {below: 0.99, credit_percent: 0}\n", 7, "credit_percent must be in (0, 100]"),
        ("  pro:\n    - {below: 0.99, credit_percent: ten}\n", 7, "credit_percent must be a number"),
        ("  pro:\n    - {below: 0.99}\n", 7, "exactly the keys below and credit_percent"),
        ("  pro: 10\n", 6, "credits.pro must be a list of tiers"),
        (
            "  pro:\n    - {below: 0.99, credit_percent: 25}\n    - {below: 0.95, credit_percent: 10}\n",
            7,
            "the tier below 0.95 must credit more than the tier below 0.99",
        ),
        (
            "  pro:\n    - {below: 0.99, credit_percent: 10}\n    - {below: 0.99, credit_percent: 20}\n",
            7,
            "two tiers start below 0.99",
        ),
    ],
)
def test_a_wrong_credits_table_names_file_and_line(tmp_path, section, line, message):
    path = tmp_path / "sla.yaml"
    path.write_text(PLANS + "credits:\n" + section)
    with pytest.raises(ConfigError) as caught:
        load_credits(path)
    assert str(caught.value).startswith(f"{path}, line {line}: ")
    assert message in str(caught.value)


def test_a_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text(PLANS + "credits:\n  pro: [\n")
    with pytest.raises(ConfigError, match=rf"{path}, line \d+: not valid YAML"):
        load_credits(path)


def test_slack_lists_the_tenants_owed_a_credit_with_links_to_their_statements():
    from reliability.sla.credits import owed_fact

    policy = parse_credits(TIERS, "sla.yaml")
    credits = tenant_credits(
        [_row("acme", "enterprise", 0.9985), _row("<b>|x", "enterprise", 0.98), _row("globex", "pro", 0.999)],
        policy,
    )
    label, text = owed_fact(credits, "https://airflow.example/")
    assert label == "Service credits owed"
    assert text == (
        "<https://airflow.example/sla/2026-11/tenants/%3Cb%3E%7Cx/statement|&lt;b&gt;¦x> 25%, "
        "<https://airflow.example/sla/2026-11/tenants/acme/statement|acme> 10% (of the monthly fee)"
    )
    provisional = tenant_credits([_row("acme", "enterprise", 0.98, kind="provisional")], policy)
    assert owed_fact(provisional, "https://airflow.example") is None
