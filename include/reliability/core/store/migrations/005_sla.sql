-- SLA uptime (dag sla_uptime): the current report of each period with its rows per monitor and per
-- tenant, replaced whole by a rerun or by the final report, and one snapshot per tenant and day that
-- is kept, for the chart of the error budget burning over the month.
CREATE TABLE reliability.sla_reports (
    period        text        PRIMARY KEY CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    kind          text        NOT NULL CHECK (kind IN ('provisional', 'final')),
    interval_key  text        NOT NULL,
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    as_of         timestamptz NOT NULL,
    source        text        NOT NULL,
    summary       jsonb       NOT NULL DEFAULT '{}',
    saved_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reliability.sla_monitor_rows (
    period                   text     NOT NULL REFERENCES reliability.sla_reports (period) ON DELETE CASCADE,
    monitor_id               bigint   NOT NULL,
    monitor_name             text     NOT NULL,
    tenant                   text,
    plan                     text,
    unmapped_reason          text,
    kind                     text     NOT NULL CHECK (kind IN ('provisional', 'final')),
    uptime_ratio             double precision CHECK (uptime_ratio BETWEEN 0 AND 1),
    monitored_seconds        bigint   NOT NULL,
    downtime_seconds         bigint   NOT NULL,
    incidents                integer  NOT NULL,
    longest_incident_seconds bigint   NOT NULL,
    target                   double precision,
    breach                   boolean,
    budget_allowed_seconds   double precision,
    budget_used_seconds      bigint,
    budget_remaining_ratio   double precision,
    burn_rate_1d             double precision,
    burn_rate_7d             double precision,
    burn_rate_period         double precision,
    projected_breach         boolean,
    cross_check_ratio        double precision,
    cross_check_note         text,
    PRIMARY KEY (period, monitor_id)
);
CREATE INDEX sla_monitor_rows_tenant_idx ON reliability.sla_monitor_rows (period, tenant);

CREATE TABLE reliability.sla_tenant_rows (
    period                   text     NOT NULL REFERENCES reliability.sla_reports (period) ON DELETE CASCADE,
    tenant                   text     NOT NULL,
    plan                     text     NOT NULL,
    monitors                 integer  NOT NULL,
    kind                     text     NOT NULL CHECK (kind IN ('provisional', 'final')),
    uptime_ratio             double precision CHECK (uptime_ratio BETWEEN 0 AND 1),
    monitored_seconds        bigint   NOT NULL,
    downtime_seconds         bigint   NOT NULL,
    incidents                integer  NOT NULL,
    longest_incident_seconds bigint   NOT NULL,
    target                   double precision,
    breach                   boolean,
    budget_allowed_seconds   double precision,
    budget_used_seconds      bigint,
    budget_remaining_ratio   double precision,
    burn_rate_1d             double precision,
    burn_rate_7d             double precision,
    burn_rate_period         double precision,
    projected_breach         boolean,
    cross_check_ratio        double precision,
    cross_check_note         text,
    PRIMARY KEY (period, tenant)
);

CREATE TABLE reliability.sla_tenant_snapshots (
    period                 text        NOT NULL,
    tenant                 text        NOT NULL,
    as_of_date             date        NOT NULL,
    as_of                  timestamptz NOT NULL,
    kind                   text        NOT NULL CHECK (kind IN ('provisional', 'final')),
    interval_key           text        NOT NULL,
    plan                   text        NOT NULL,
    target                 double precision,
    uptime_ratio           double precision,
    monitored_seconds      bigint      NOT NULL,
    downtime_seconds       bigint      NOT NULL,
    budget_remaining_ratio double precision,
    burn_rate_period       double precision,
    breach                 boolean,
    projected_breach       boolean,
    PRIMARY KEY (period, tenant, as_of_date)
);
