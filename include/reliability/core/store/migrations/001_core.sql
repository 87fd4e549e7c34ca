-- One row per job run and interval: the shared record every job writes.
CREATE TABLE reliability.runs (
    job           text        NOT NULL,
    interval_key  text        NOT NULL,
    logical_date  timestamptz,
    status        text        NOT NULL CHECK (status IN ('success', 'failed', 'warning', 'running')),
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    summary       jsonb       NOT NULL DEFAULT '{}',
    attempts      integer     NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job, interval_key)
);
CREATE INDEX runs_job_finished_idx ON reliability.runs (job, finished_at DESC);
