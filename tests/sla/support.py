"""Shared test data of the SLA tests: the fake's API key and tenants, a static source, a secret check."""

from __future__ import annotations

from datetime import UTC, datetime

from reliability.sla.source import FetchRequest, Snapshot

API_KEY = "u7654321-3f9a0c2b8e7d41a6b5c4d3e2"
TOKEN = "ur3_eyJhbGciOiJIUzI1NiJ9.c2xhLXYzLXRva2Vu.9f8e7d6c5b4a"  # an API v3 token
NOW = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
TENANTS = [
    {"slug": "acme", "plan": "enterprise", "sites": ["acme-shop.example.com", "acme-blog.example.com"]},
    {"slug": "globex", "plan": "pro", "sites": ["globex.example.com", "status.globex.example.com"]},
    {"slug": "initech", "plan": "free", "sites": ["initech.example.com"]},
    {"slug": "umbrella", "plan": "pro", "sites": ["umbrella.example.com", "shop.umbrella.example.com"]},
    {"slug": "hooli", "plan": "free", "sites": ["hooli.example.com"]},
    {"slug": "vandelay", "plan": "enterprise", "sites": []},
]


class StaticSource:
    """An UptimeSource answering a fixed snapshot, and counting how often it was asked."""

    name = "static"

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self.requests: list[FetchRequest] = []

    def fetch(self, request: FetchRequest) -> Snapshot:
        self.requests.append(request)
        return self.snapshot


def secret_free(value: object, secret: str = API_KEY) -> bool:
    """True if neither ``str`` nor ``repr`` of ``value`` (nor of any exception it chains) shows the secret."""
    seen = set()
    while value is not None and id(value) not in seen:
        seen.add(id(value))
        texts = [str(value), repr(value)] + [repr(a) for a in getattr(value, "args", ())]
        if any(secret in text for text in texts):
            return False
        value = getattr(value, "__cause__", None) or getattr(value, "__context__", None)
    return True


def acme_shop(created: int, changes: list[tuple[int, int]]):
    """Fake monitor 42 of tenant acme: "started" at ``created``, then the log ``changes`` as (type, time),
    with log ids from 1 in that order."""
    from stack.fake_uptimerobot import DOWN_REASONS, REASON_OF_TYPE, FakeLog, FakeMonitor

    monitor = FakeMonitor(42, "acme/acme-shop.example.com", "https://acme-shop.example.com", created)
    monitor.logs = [
        FakeLog(n, kind, when, REASON_OF_TYPE.get(kind, DOWN_REASONS[n % len(DOWN_REASONS)]))
        for n, (kind, when) in enumerate([(98, created), *changes], 1)
    ]
    monitor.seal()
    return monitor


def stored(results_dsn: str, period: str) -> dict:
    """The stored SLA report of ``period``, row for row (all but the request count, which differs by API)."""
    from dataclasses import fields

    import psycopg

    from reliability.sla.store import list_periods, monitor_rows, tenant_rows

    with psycopg.connect(results_dsn) as conn:
        (summary,) = conn.execute(
            "SELECT summary FROM reliability.sla_reports WHERE period = %s", (period,)
        ).fetchone()
        return {
            "summary": {k: v for k, v in summary.items() if k != "api_requests"},
            "tenants": [tuple(getattr(r, f.name) for f in fields(r)) for r in tenant_rows(conn, period)],
            "monitors": [tuple(getattr(r, f.name) for f in fields(r)) for r in monitor_rows(conn, period)],
            "periods": [(p.period, p.kind, p.tenants, p.breaches) for p in list_periods(conn)],
        }


def as_dicts(outcomes) -> list[dict]:
    """The run's outcomes in their XCom form, as the DAG's publish task receives them."""
    return [o.to_dict() for o in outcomes]
