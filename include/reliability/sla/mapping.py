"""Which tenant (and so which plan and target) each monitor belongs to.

A monitor maps by its id (``mapping.monitors`` in sla.yaml) or else by its friendly name
(``mapping.name_pattern``, default ``^(?P<tenant>[^/]+)/``). The tenant must exist in the tenant
directory: the platform database (``tenants.slug``, ``tenants.plan``) or, without it, ``mapping.tenants``.
A monitor that maps to no known tenant is reported as unmapped, never silently given a plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from reliability.core.config import ConfigError
from reliability.sla.config import SlaConfig

TENANTS_QUERY = "SELECT slug, plan FROM tenants ORDER BY slug"
TENANT_NAMES_QUERY = "SELECT slug, name FROM tenants ORDER BY slug"


@dataclass(frozen=True)
class Assignment:
    tenant: str
    plan: str


@dataclass(frozen=True)
class Unmapped:
    reason: str


@dataclass(frozen=True)
class TenantMapping:
    name_pattern: re.Pattern
    monitor_tenants: Mapping[int, str]
    tenant_plans: Mapping[str, str]

    def assign(self, monitor_id: int, name: str) -> Assignment | Unmapped:
        slug = self.monitor_tenants.get(monitor_id)
        if slug is None:
            match = self.name_pattern.search(name)
            if not match or not match.group("tenant"):
                return Unmapped(
                    f"name does not match {self.name_pattern.pattern!r} and the id is not in mapping.monitors"
                )
            slug = match.group("tenant")
        plan = self.tenant_plans.get(slug)
        if plan is None:
            return Unmapped(f"tenant {slug!r} is not a known tenant")
        return Assignment(slug, plan)


def mapping_from_config(config: SlaConfig, tenant_plans: Mapping[str, str] | None = None) -> TenantMapping:
    """The mapping from sla.yaml, with ``tenant_plans`` (e.g. from the platform DB) as the directory if given."""
    plans = dict(config.mapping.tenants if tenant_plans is None else tenant_plans)
    unknown = {slug: plan for slug, plan in plans.items() if plan not in config.plans}
    if unknown:
        listed = ", ".join(f"{slug} ({plan})" for slug, plan in sorted(unknown.items()))
        raise ConfigError(
            f"tenants on plans without an uptime target: {listed}; add the plans under `plans:` in sla.yaml"
        )
    return TenantMapping(
        re.compile(config.mapping.name_pattern),
        MappingProxyType(dict(config.mapping.monitors)),
        MappingProxyType(plans),
    )


def tenant_plans_from_db(dsn: str) -> dict[str, str]:
    """Tenant slug -> plan from the platform database's ``tenants`` table."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        return {slug: plan for slug, plan in conn.execute(TENANTS_QUERY).fetchall()}


def tenant_names_from_db(dsn: str) -> dict[str, str]:
    """Tenant slug -> display name from the platform database's ``tenants`` table (for the SLA pages)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        return {slug: name for slug, name in conn.execute(TENANT_NAMES_QUERY).fetchall()}
