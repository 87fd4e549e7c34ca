-- The platform database as the reliability jobs see it: a multi-tenant SaaS schema.
CREATE TABLE tenants (
    id          bigserial PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    name        text NOT NULL,
    plan        text NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sites (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    domain      text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_tenant_idx ON sites(tenant_id);
CREATE TABLE users (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email       text NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_tenant_idx ON users(tenant_id);
CREATE TABLE pageviews (
    id          bigserial PRIMARY KEY,
    site_id     bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path        text NOT NULL,
    referrer    text,
    duration_ms integer NOT NULL CHECK (duration_ms >= 0),
    viewed_at   timestamptz NOT NULL
);
CREATE INDEX pageviews_site_time_idx ON pageviews(site_id, viewed_at);
CREATE TABLE leads (
    id          bigserial PRIMARY KEY,
    site_id     bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    email       text NOT NULL,
    source      text NOT NULL,
    score       numeric(5,2),
    created_at  timestamptz NOT NULL
);
CREATE INDEX leads_site_idx ON leads(site_id);
CREATE TABLE exports (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    requested_by bigint REFERENCES users(id) ON DELETE SET NULL,
    format      text NOT NULL CHECK (format IN ('csv', 'json', 'xlsx')),
    status      text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    row_count   integer,
    created_at  timestamptz NOT NULL
);
CREATE INDEX exports_tenant_idx ON exports(tenant_id);
CREATE TABLE automation_runs (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    automation  text NOT NULL,
    status      text NOT NULL CHECK (status IN ('success', 'failed', 'skipped')),
    started_at  timestamptz NOT NULL,
    duration_ms integer NOT NULL,
    payload     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX automation_runs_tenant_idx ON automation_runs(tenant_id, started_at);
CREATE TABLE assistant_calls (
    id                bigserial PRIMARY KEY,
    tenant_id         bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id           bigint REFERENCES users(id) ON DELETE SET NULL,
    provider          text NOT NULL,
    model             text NOT NULL,
    prompt_tokens     integer NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens integer NOT NULL CHECK (completion_tokens >= 0),
    latency_ms        integer NOT NULL,
    status            text NOT NULL CHECK (status IN ('ok', 'error')),
    called_at         timestamptz NOT NULL
);
CREATE INDEX assistant_calls_tenant_idx ON assistant_calls(tenant_id, called_at);
