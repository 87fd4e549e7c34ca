"""Create and seed the platform database: tenants on free/pro/enterprise plans and their activity.

Data are generated inside PostgreSQL (``generate_series`` with a fixed seed), so a few hundred
thousand rows take seconds, and a benchmark can ask for gigabytes with ``scale``. ``scale=1``
gives about 300,000 rows (about 60 MB on disk).
"""

from __future__ import annotations

from pathlib import Path

SCHEMA = Path(__file__).with_name("platform_schema.sql")


def seed_statements(scale: float) -> list[str]:
    tenants = max(6, int(60 * min(scale, 10)))
    sites = max(12, int(150 * min(scale, 10)))
    users = max(12, int(600 * scale))
    pageviews = int(200_000 * scale)
    leads = int(30_000 * scale)
    exports = int(3_000 * scale)
    automation_runs = int(40_000 * scale)
    assistant_calls = int(30_000 * scale)
    return [
        "SELECT setseed(0.42)",
        # Plans: mostly free, some pro, a few enterprise; slugs are stable so monitors can name them.
        f"""INSERT INTO tenants (slug, name, plan, created_at)
            SELECT format('tenant-%s', lpad(g::text, 3, '0')), format('Tenant %s', g),
                   CASE WHEN g % 6 = 0 THEN 'enterprise' WHEN g % 3 = 0 THEN 'pro' ELSE 'free' END,
                   timestamptz '2025-01-01 00:00+00' + g * interval '3 days'
            FROM generate_series(1, {tenants}) g""",
        f"""INSERT INTO sites (tenant_id, domain, created_at)
            SELECT 1 + (g - 1) % {tenants}, format('site-%s.tenant-%s.example.com', g, lpad((1 + (g - 1) % {tenants})::text, 3, '0')),
                   timestamptz '2025-02-01 00:00+00' + g * interval '1 day'
            FROM generate_series(1, {sites}) g""",
        f"""INSERT INTO users (tenant_id, email, role, created_at)
            SELECT 1 + (g - 1) % {tenants}, format('user%s@example.com', g),
                   (ARRAY['owner','admin','editor','viewer'])[1 + g % 4],
                   timestamptz '2025-02-01 00:00+00' + g * interval '1 hour'
            FROM generate_series(1, {users}) g""",
        f"""INSERT INTO pageviews (site_id, path, referrer, duration_ms, viewed_at)
            SELECT 1 + (random() * ({sites} - 1))::int,
                   (ARRAY['/', '/pricing', '/blog', '/contact', '/docs', '/signup'])[1 + (random() * 5)::int]
                       || CASE WHEN random() < 0.3 THEN '/' || (random() * 1000)::int ELSE '' END,
                   CASE WHEN random() < 0.4 THEN NULL ELSE 'https://ref-' || (random() * 50)::int || '.example.org/' END,
                   (random() * 60000)::int,
                   timestamptz '2026-01-01 00:00+00' + random() * interval '330 days'
            FROM generate_series(1, {pageviews}) g""",
        f"""INSERT INTO leads (site_id, email, source, score, created_at)
            SELECT 1 + (random() * ({sites} - 1))::int, format('lead%s@example.net', g),
                   (ARRAY['form', 'chat', 'import', 'api'])[1 + (random() * 3)::int],
                   CASE WHEN random() < 0.1 THEN NULL ELSE round((random() * 100)::numeric, 2) END,
                   timestamptz '2026-01-01 00:00+00' + random() * interval '330 days'
            FROM generate_series(1, {leads}) g""",
        f"""INSERT INTO exports (tenant_id, requested_by, format, status, row_count, created_at)
            SELECT t, NULL, (ARRAY['csv','json','xlsx'])[1 + (random() * 2)::int],
                   (ARRAY['done','done','done','failed','queued'])[1 + (random() * 4)::int],
                   (random() * 100000)::int, timestamptz '2026-01-01 00:00+00' + random() * interval '330 days'
            FROM (SELECT g, 1 + (g - 1) % {tenants} AS t FROM generate_series(1, {exports}) g) s""",
        """UPDATE exports e SET requested_by = (SELECT min(u.id) FROM users u WHERE u.tenant_id = e.tenant_id)""",
        f"""INSERT INTO automation_runs (tenant_id, automation, status, started_at, duration_ms, payload)
            SELECT 1 + (g - 1) % {tenants}, (ARRAY['welcome-email','lead-scoring','weekly-digest','crm-sync'])[1 + (random() * 3)::int],
                   (ARRAY['success','success','success','failed','skipped'])[1 + (random() * 4)::int],
                   timestamptz '2026-01-01 00:00+00' + random() * interval '330 days', (random() * 20000)::int,
                   jsonb_build_object('attempt', 1 + (random() * 2)::int, 'items', (random() * 500)::int)
            FROM generate_series(1, {automation_runs}) g""",
        f"""INSERT INTO assistant_calls (tenant_id, user_id, provider, model, prompt_tokens, completion_tokens,
                                         latency_ms, status, called_at)
            SELECT t, NULL, p.provider, p.model, (random() * 4000)::int, (random() * 1500)::int,
                   (200 + random() * 8000)::int, CASE WHEN random() < 0.03 THEN 'error' ELSE 'ok' END,
                   timestamptz '2026-01-01 00:00+00' + random() * interval '330 days'
            FROM (SELECT g, 1 + (g - 1) % {tenants} AS t, 1 + g % 3 AS pi FROM generate_series(1, {assistant_calls}) g) s
            JOIN (VALUES (1, 'openai', 'gpt-4o-mini'), (2, 'anthropic', 'claude-haiku'), (3, 'mistral', 'mistral-small'))
                 AS p(i, provider, model) ON p.i = s.pi""",
        """UPDATE assistant_calls a SET user_id = (SELECT min(u.id) FROM users u WHERE u.tenant_id = a.tenant_id)""",
        "ANALYZE",
    ]


def seed_platform(dsn: str, scale: float = 1.0) -> dict[str, int]:
    """Create the schema and data in an empty database; return the row count of each table."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        if conn.execute("SELECT to_regclass('public.tenants')").fetchone()[0] is None:
            conn.execute(SCHEMA.read_text())
            for statement in seed_statements(scale):
                conn.execute(statement)
        conn.commit()
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def tenants_with_sites(dsn: str) -> list[dict]:
    """Tenants, plans and site domains: the input of the fake UptimeRobot's data set."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute("""SELECT t.slug, t.plan, coalesce(array_agg(s.domain ORDER BY s.id)
                                      FILTER (WHERE s.id IS NOT NULL), '{}')
                               FROM tenants t LEFT JOIN sites s ON s.tenant_id = t.id
                               GROUP BY t.id ORDER BY t.id""").fetchall()
    return [{"slug": slug, "plan": plan, "sites": list(sites)} for slug, plan, sites in rows]


# Recent assistant calls, so that performance_watchdog's "today so far" and "this month" have data: one
# call per provider every 2 minutes from the start of the month (UTC) up to now, continuing from the
# newest call on the next `stack up`. Medians match stack/platform_metrics.py's histogram (openai 1.5 s,
# anthropic 0.8 s, mistral 3 s, so the Prometheus cross-check agrees); mistral's spread (1.5-4.5 s)
# leaves about 17 % of its calls above its 4 s target, so the demo shows one provider below target.
RECENT_CALLS = """
WITH bounds AS (
    SELECT greatest(date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                    coalesce(max(called_at), '-infinity') + interval '2 minutes') AS since
    FROM assistant_calls
), tenants_n AS (SELECT count(*) AS n FROM tenants)
INSERT INTO assistant_calls (tenant_id, user_id, provider, model, prompt_tokens, completion_tokens,
                             latency_ms, status, called_at)
SELECT t.id, (SELECT min(u.id) FROM users u WHERE u.tenant_id = t.id), p.provider, p.model,
       (random() * 4000)::int, (random() * 1500)::int,
       (p.median_ms * (0.5 + random()))::int, CASE WHEN random() < 0.02 THEN 'error' ELSE 'ok' END, ts
FROM bounds CROSS JOIN tenants_n
CROSS JOIN generate_series(bounds.since, now(), interval '2 minutes') ts
CROSS JOIN (VALUES ('openai', 'gpt-4o-mini', 1500), ('anthropic', 'claude-haiku', 800),
                   ('mistral', 'mistral-small', 3000)) AS p(provider, model, median_ms)
JOIN tenants t ON t.id = 1 + (extract(epoch FROM ts)::bigint / 120) % tenants_n.n
"""


def seed_recent_assistant_calls(dsn: str) -> int:
    """Add the assistant calls since the newest one (at most since the start of this month); return how many."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        added = conn.execute(RECENT_CALLS).rowcount
        conn.commit()
    return added
