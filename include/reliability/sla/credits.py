"""Service credits: the share of a tenant's monthly fee owed when its uptime falls below its plan's tiers.

The table is the ``credits:`` section of ``include/config/sla.yaml``, one list of tiers per plan::

    credits:
      enterprise:
        - {below: 0.999, credit_percent: 10}
        - {below: 0.99, credit_percent: 25}

A tenant whose period uptime is below a tier's ``below`` is owed that tier's credit; below several tiers,
the largest credit. A plan without tiers owes nothing; a tenant without data ("no data") owes nothing. A
provisional report's credit is what would be owed if the month ended at its "as of"; only the final
report's is due. The section is validated on load: every mistake is a ``ConfigError`` naming the file and
the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from reliability.core.config import CONFIG_DIR, ConfigError, read_text, yaml_error
from reliability.core.outcome import Metric

DEFAULT_PATH = CONFIG_DIR / "sla.yaml"
METRIC = "sla_service_credit_ratio"
_METRIC_DOC = "Service credit owed to the tenant for the period, as a share of its monthly fee (0 = none)."


@dataclass(frozen=True)
class CreditTier:
    below: float  # uptime ratio under which the tier applies
    credit_ratio: float  # share of the monthly fee: 0.10 is 10%


@dataclass(frozen=True)
class CreditPolicy:
    tiers: Mapping[str, tuple[CreditTier, ...]]  # plan -> tiers, highest threshold first

    def tier_for(self, plan: str, uptime_ratio: float | None) -> CreditTier | None:
        """The tier ``uptime_ratio`` earns on ``plan`` (the largest credit), None when nothing is owed."""
        if uptime_ratio is None:
            return None
        earned = [t for t in self.tiers.get(plan, ()) if uptime_ratio < t.below]
        return max(earned, key=lambda t: t.credit_ratio, default=None)


@dataclass(frozen=True)
class TenantCredit:
    period: str
    kind: str  # provisional | final: only a final report's credit is due
    tenant: str
    plan: str
    uptime_ratio: float | None
    below_ratio: float | None  # the tier's threshold, None when nothing is owed
    credit_ratio: float  # 0.0 when nothing is owed


@dataclass(frozen=True)
class PlanCredits:
    plan: str
    tenants: int
    tenants_owed: int
    credit_ratio_total: float  # sum over the plan's tenants, in monthly fees


def tenant_credits(tenants: Iterable[Any], policy: CreditPolicy) -> list[TenantCredit]:
    """One credit per tenant row (``TenantRow`` or anything with period, kind, tenant, plan, uptime_ratio)."""
    found = []
    for row in tenants:
        tier = policy.tier_for(row.plan, row.uptime_ratio)
        found.append(
            TenantCredit(
                period=row.period,
                kind=row.kind,
                tenant=row.tenant,
                plan=row.plan,
                uptime_ratio=row.uptime_ratio,
                below_ratio=tier.below if tier else None,
                credit_ratio=tier.credit_ratio if tier else 0.0,
            )
        )
    return found


def plan_credits(credits: Iterable[TenantCredit]) -> list[PlanCredits]:
    """Per plan (by name): tenants, tenants owed a credit, and the credits added up in monthly fees."""
    by_plan: dict[str, list[TenantCredit]] = {}
    for credit in credits:
        by_plan.setdefault(credit.plan, []).append(credit)
    return [
        PlanCredits(
            plan=plan,
            tenants=len(rows),
            tenants_owed=sum(1 for r in rows if r.credit_ratio > 0),
            credit_ratio_total=sum(r.credit_ratio for r in rows),
        )
        for plan, rows in sorted(by_plan.items())
    ]


def credit_metrics(credits: Iterable[TenantCredit]) -> list[Metric]:
    """``sla_service_credit_ratio`` per tenant (labels tenant, plan, period), 0 when nothing is owed;
    a tenant without data pushes nothing, like the other SLA gauges."""
    return [
        Metric(METRIC, c.credit_ratio, {"tenant": c.tenant, "plan": c.plan, "period": c.period}, _METRIC_DOC)
        for c in credits
        if c.uptime_ratio is not None
    ]


def owed_fact(credits: Iterable[TenantCredit], ui_base_url: str, limit: int = 10) -> tuple[str, str] | None:
    """The Slack fact of a final report: the tenants owed a credit, largest first, each linked to its
    statement in the SLA pages (``{ui_base_url}/sla/<period>/tenants/<slug>/statement``); None when no
    credit is due (or the report is provisional: nothing is due before the month ends)."""
    from urllib.parse import quote

    from reliability.core.slack import mrkdwn_escape

    owed = sorted(
        (c for c in credits if c.kind == "final" and c.credit_ratio > 0),
        key=lambda c: (-c.credit_ratio, c.tenant),
    )
    if not owed:
        return None
    base = ui_base_url.rstrip("/")
    shown = ", ".join(
        f"<{base}/sla/{c.period}/tenants/{quote(c.tenant, safe='')}/statement|"
        f"{mrkdwn_escape(c.tenant).replace('|', '¦')}> {c.credit_ratio:.0%}"
        for c in owed[:limit]
    )
    more = f" and {len(owed) - limit} more" if len(owed) > limit else ""
    return ("Service credits owed", f"{shown}{more} (of the monthly fee)")


def load_credits(path: str | Path = DEFAULT_PATH) -> CreditPolicy:
    """The ``credits:`` section of sla.yaml (no section: no credits), checked against its ``plans:``."""
    return parse_credits(read_text(path, "SLA config file"), str(path))


def parse_credits(text: str, source: str) -> CreditPolicy:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source) from None
    top = _as_mapping(root, source, "the top level") if root is not None else {}
    plans_node = top.get("plans")
    known_plans = set(_as_mapping(plans_node, source, "plans")) if plans_node is not None else set()
    section = top.get("credits")
    if section is None or _is_null(section):
        return CreditPolicy(MappingProxyType({}))
    tiers: dict[str, tuple[CreditTier, ...]] = {}
    _as_mapping(section, source, "credits")
    for key_node, tiers_node in section.value:
        plan = str(key_node.value)
        where = f"credits.{plan}"
        if plan not in known_plans:
            raise _error(
                source,
                key_node,
                f"{where}: plan {plan!r} is not under `plans:` (known: {', '.join(sorted(known_plans))})",
            )
        if _is_null(tiers_node):
            tiers[plan] = ()
            continue
        if not isinstance(tiers_node, yaml.SequenceNode):
            raise _error(
                source,
                tiers_node,
                f"{where} must be a list of tiers like {{below: 0.99, credit_percent: 10}}",
            )
        plan_tiers = [_tier(source, f"{where}[{i}]", node) for i, node in enumerate(tiers_node.value)]
        ordered = sorted(plan_tiers, key=lambda t: -t.below)
        for higher, lower in zip(ordered, ordered[1:]):
            if higher.below == lower.below:
                raise _error(source, tiers_node, f"{where}: two tiers start below {higher.below}")
            if lower.credit_ratio <= higher.credit_ratio:
                raise _error(
                    source,
                    tiers_node,
                    f"{where}: the tier below {lower.below} must credit more than the tier below "
                    f"{higher.below} (a lower uptime never earns a smaller credit)",
                )
        tiers[plan] = tuple(ordered)
    return CreditPolicy(MappingProxyType(tiers))


def _tier(source: str, where: str, node) -> CreditTier:
    fields = _as_mapping(node, source, where)
    unknown = set(fields) - {"below", "credit_percent"}
    if unknown or len(fields) != 2:
        raise _error(source, node, f"{where} must have exactly the keys below and credit_percent")
    below = _number(source, fields["below"], f"{where}.below")
    if not 0 < below <= 1:
        raise _error(source, fields["below"], f"{where}.below must be an uptime ratio in (0, 1], got {below}")
    percent = _number(source, fields["credit_percent"], f"{where}.credit_percent")
    if not 0 < percent <= 100:
        raise _error(
            source, fields["credit_percent"], f"{where}.credit_percent must be in (0, 100], got {percent}"
        )
    return CreditTier(below=below, credit_ratio=percent / 100)


def _number(source: str, node, where: str) -> float:
    import yaml

    if isinstance(node, yaml.ScalarNode) and node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        return float(yaml.safe_load(yaml.serialize(node)))
    raise _error(source, node, f"{where} must be a number, got {getattr(node, 'value', node)!r}")


def _as_mapping(node, source: str, where: str) -> dict[str, Any]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        raise _error(source, node, f"{where} must be a mapping")
    return {str(key.value): value for key, value in node.value}


def _is_null(node) -> bool:
    return getattr(node, "tag", None) == "tag:yaml.org,2002:null"


def _error(source: str, node, message: str) -> ConfigError:
    mark = getattr(node, "start_mark", None)
    where = f", line {mark.line + 1}" if mark is not None else ""
    return ConfigError(f"{source}{where}: {message}")
