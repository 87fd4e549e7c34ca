-- Restore tests (DAG restore_test): one row per test, one per restored table, one GX result per table.
-- Keyed by (interval_key, database): a rerun of the same interval replaces its rows.
CREATE TABLE reliability.restore_tests (
    interval_key           text             NOT NULL,
    database               text             NOT NULL,
    status                 text             NOT NULL CHECK (status IN ('success', 'warning', 'failed')),
    failed_step            text,
    failed_check           text,
    failed_table           text,
    message                text             NOT NULL DEFAULT '',
    backup_key             text,
    backup_sha256          text,
    backup_size_bytes      bigint,
    backup_snapshot_at     timestamptz,
    backup_age_seconds     double precision,            -- at the start of the test: the RPO figure
    scratch_database       text,
    scratch_dropped        boolean,
    started_at             timestamptz      NOT NULL,
    finished_at            timestamptz      NOT NULL,
    download_seconds       double precision,
    restore_seconds        double precision,            -- pg_restore alone
    rto_seconds            double precision,            -- download + create + pg_restore: the RTO figure
    validate_seconds       double precision,
    rto_target_seconds     double precision NOT NULL,
    rpo_target_seconds     double precision NOT NULL,
    rto_breached           boolean          NOT NULL DEFAULT false,
    rpo_breached           boolean          NOT NULL DEFAULT false,
    tables_restored        integer,
    rows_restored          bigint,
    rows_mismatched        bigint,
    expectations_evaluated integer,
    expectations_failed    integer,
    amcheck                text,                        -- ok | corrupt | not run
    summary                jsonb            NOT NULL DEFAULT '{}',
    PRIMARY KEY (interval_key, database)
);
CREATE INDEX restore_tests_database_finished_idx ON reliability.restore_tests (database, finished_at DESC);

CREATE TABLE reliability.restore_test_tables (
    interval_key           text     NOT NULL,
    database               text     NOT NULL,
    table_name             text     NOT NULL,             -- as in the backup manifest
    present                boolean  NOT NULL,
    expected_columns       text[]   NOT NULL,
    restored_columns       text[]   NOT NULL,
    expected_rows          bigint   NOT NULL,
    restored_rows          bigint,
    expected_digest        text     NOT NULL,
    restored_digest        text,
    expectations_evaluated integer  NOT NULL DEFAULT 0,
    expectations_failed    integer  NOT NULL DEFAULT 0,
    failed_checks          text[]   NOT NULL DEFAULT '{}', -- missing_table, columns, row_count, digest, expectations
    PRIMARY KEY (interval_key, database, table_name)
);

-- The Great Expectations validation result of each table, as GX wrote it (database password scrubbed).
CREATE TABLE reliability.restore_test_expectations (
    interval_key text    NOT NULL,
    database     text    NOT NULL,
    table_name   text    NOT NULL,
    success      boolean NOT NULL,
    result       jsonb   NOT NULL,
    PRIMARY KEY (interval_key, database, table_name)
);
