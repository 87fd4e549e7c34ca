-- performance_watchdog: Redis latency per hourly run, the daily response-time report, and the AI latency
-- SLA per provider and model (daily, and the month's final report). A rerun of the same interval or
-- period replaces its rows (delete-then-insert in one transaction), never duplicates them.
CREATE TABLE reliability.performance_redis_latency (
    interval_key        text             PRIMARY KEY,
    measured_at         timestamptz      NOT NULL,
    target              text             NOT NULL,  -- "connection <id> (<host>:<port>)", no credentials
    commands            integer          NOT NULL CHECK (commands > 0),
    p50_seconds         double precision NOT NULL,
    p99_seconds         double precision NOT NULL,
    max_seconds         double precision NOT NULL,
    target_seconds      double precision NOT NULL,
    breach              boolean          NOT NULL,
    latency_monitor     text             NOT NULL,
    events              jsonb            NOT NULL DEFAULT '[]',
    server_p99_seconds  jsonb            NOT NULL DEFAULT '{}'
);
CREATE INDEX performance_redis_latency_time_idx ON reliability.performance_redis_latency (measured_at DESC);

-- One row per reported day: how long the median of http_request_duration_seconds was above target.
CREATE TABLE reliability.performance_response_time (
    day                  date             PRIMARY KEY,
    period_end           timestamptz      NOT NULL,  -- before the day's end when reported to date
    interval_key         text             NOT NULL,
    computed_at          timestamptz      NOT NULL,
    target_seconds       double precision NOT NULL,
    step_seconds         integer          NOT NULL,
    steps_with_data      integer          NOT NULL,
    steps_over_target    integer          NOT NULL,
    share_over_target    double precision,           -- NULL: no data in the day
    worst_windows        jsonb            NOT NULL DEFAULT '[]',
    route_medians        jsonb            NOT NULL DEFAULT '{}',
    query                text             NOT NULL
);

-- Per provider and model ('*' = every model of the provider, the row the SLA verdict is on).
CREATE TABLE reliability.performance_ai_latency (
    period_kind          text             NOT NULL CHECK (period_kind IN ('day', 'month')),
    period               text             NOT NULL,  -- 2026-12-06 or 2026-11
    provider             text             NOT NULL,
    model                text             NOT NULL,
    period_start         timestamptz      NOT NULL,
    period_end           timestamptz      NOT NULL,
    final                boolean          NOT NULL,
    interval_key         text             NOT NULL,
    computed_at          timestamptz      NOT NULL,
    calls                bigint           NOT NULL,
    errors               bigint           NOT NULL,
    p50_seconds          double precision,
    p95_seconds          double precision,
    p99_seconds          double precision,
    within_target        bigint,
    within_target_ratio  double precision,           -- ok calls within target / all calls; NULL: no data or no target
    target_seconds       double precision,
    objective_ratio      double precision,
    verdict              text             NOT NULL
        CHECK (verdict IN ('ok', 'below_target', 'no_data', 'no_target')),
    cross_check          jsonb,
    PRIMARY KEY (period_kind, period, provider, model)
);
