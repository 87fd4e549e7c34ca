-- SLA details (issue 16): what the tenant pages and statements are computed from, stored with each
-- period's current report so that no page asks UptimeRobot: the monitors' log entries (state changes,
-- with UptimeRobot's reason where the source gives one), the maintenance each monitor had in the period,
-- UptimeRobot's own figure per monitor and day, and the service credit owed per tenant. Replaced together with the report they belong to.
CREATE TABLE reliability.sla_report_details (
    period              text        PRIMARY KEY REFERENCES reliability.sla_reports (period) ON DELETE CASCADE,
    as_of               timestamptz NOT NULL,
    logs_start          timestamptz NOT NULL,
    saved_at            timestamptz NOT NULL DEFAULT now(),
    cross_check_tolerance double precision NOT NULL,
    maintenance_policy  text        NOT NULL CHECK (maintenance_policy IN ('exclude', 'count_as_up'))
);

CREATE TABLE reliability.sla_monitor_timelines (
    period        text        NOT NULL REFERENCES reliability.sla_report_details (period) ON DELETE CASCADE,
    monitor_id    bigint      NOT NULL,
    monitor_name  text        NOT NULL,
    tenant        text,
    created_at    timestamptz NOT NULL,
    status        smallint    NOT NULL,
    PRIMARY KEY (period, monitor_id)
);
CREATE INDEX sla_monitor_timelines_tenant_idx ON reliability.sla_monitor_timelines (period, tenant);

CREATE TABLE reliability.sla_monitor_logs (
    period         text        NOT NULL,
    monitor_id     bigint      NOT NULL,
    at             timestamptz NOT NULL,
    type           smallint    NOT NULL CHECK (type IN (1, 2, 98, 99)),
    log_id         bigint      NOT NULL DEFAULT 0,
    reason_code    text,
    reason_detail  text,
    FOREIGN KEY (period, monitor_id) REFERENCES reliability.sla_monitor_timelines ON DELETE CASCADE
);
CREATE INDEX sla_monitor_logs_monitor_idx ON reliability.sla_monitor_logs (period, monitor_id, at);

CREATE TABLE reliability.sla_monitor_maintenance (
    period      text        NOT NULL,
    monitor_id  bigint      NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    FOREIGN KEY (period, monitor_id) REFERENCES reliability.sla_monitor_timelines ON DELETE CASCADE
);
CREATE INDEX sla_monitor_maintenance_monitor_idx ON reliability.sla_monitor_maintenance (period, monitor_id);

-- UptimeRobot's own uptime of each monitor and UTC day (custom_uptime_ranges, one range a day), where the
-- source fetched it: the tenant page reconciles our figure of each day with it.
CREATE TABLE reliability.sla_monitor_provider_days (
    period        text             NOT NULL,
    monitor_id    bigint           NOT NULL,
    day           date             NOT NULL,
    uptime_ratio  double precision NOT NULL CHECK (uptime_ratio BETWEEN 0 AND 1),
    PRIMARY KEY (period, monitor_id, day),
    FOREIGN KEY (period, monitor_id) REFERENCES reliability.sla_monitor_timelines ON DELETE CASCADE
);

CREATE TABLE reliability.sla_tenant_credits (
    period        text     NOT NULL REFERENCES reliability.sla_reports (period) ON DELETE CASCADE,
    tenant        text     NOT NULL,
    plan          text     NOT NULL,
    kind          text     NOT NULL CHECK (kind IN ('provisional', 'final')),
    uptime_ratio  double precision,
    below_ratio   double precision,
    credit_ratio  double precision NOT NULL CHECK (credit_ratio BETWEEN 0 AND 1),
    PRIMARY KEY (period, tenant)
);
