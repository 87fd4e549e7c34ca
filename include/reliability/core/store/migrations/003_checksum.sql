-- Checksum validation (DAG checksum_validation): the object inventory with each object's latest
-- verdict, each run's plan (what to read, split into shards), and the verdict history.

-- One row per object seen under the checked prefixes (manifests excluded), plus objects a manifest
-- names that were never there. Listing fields are rewritten only when they change (a bucket of millions
-- of objects must not rewrite millions of rows a day); the checked_* fields describe the version last
-- read to the end, so "new or changed" is (etag, last_modified) differing from them.
CREATE TABLE reliability.checksum_objects (
    bucket                 text        NOT NULL,
    key                    text        NOT NULL,
    size                   bigint,
    etag                   text,
    last_modified          timestamptz,
    present                boolean     NOT NULL DEFAULT true,
    first_seen_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at             timestamptz,
    last_checked_at        timestamptz,  -- last read to the end (any verdict); drives the rolling scrub
    checked_etag           text,
    checked_last_modified  timestamptz,
    last_outcome           text,
    last_source            text,
    last_sha256            text,
    last_error             text,
    last_attempted_at      timestamptz,
    last_interval_key      text,
    PRIMARY KEY (bucket, key)
);
CREATE INDEX checksum_objects_scrub_idx ON reliability.checksum_objects (bucket, last_checked_at NULLS FIRST)
    WHERE present;

-- One row per run (interval): what was planned and why.
CREATE TABLE reliability.checksum_plans (
    interval_key     text        PRIMARY KEY,
    bucket           text        NOT NULL,
    prefixes         text[]      NOT NULL,
    full_scan        boolean     NOT NULL,
    byte_budget      bigint      NOT NULL,
    cycle_days       double precision NOT NULL,
    planned_at       timestamptz NOT NULL,
    shard_count      integer     NOT NULL,
    objects          bigint      NOT NULL,
    bytes            bigint      NOT NULL,
    stats            jsonb       NOT NULL DEFAULT '{}'
);

-- The objects a run reads, by shard. A rerun of the interval keeps them (and adds what became due).
CREATE TABLE reliability.checksum_plan_objects (
    interval_key   text    NOT NULL REFERENCES reliability.checksum_plans ON DELETE CASCADE,
    key            text    NOT NULL,
    shard          integer NOT NULL,
    size           bigint  NOT NULL,
    reason         text    NOT NULL CHECK (reason IN ('new', 'changed', 'scrub', 'full', 'rerun')),
    manifest_key   text,
    PRIMARY KEY (interval_key, key)
);
CREATE INDEX checksum_plan_objects_shard_idx ON reliability.checksum_plan_objects (interval_key, shard);

-- Verdict history: one row per run and object. outcome is a verdict (ok, mismatch, size_mismatch,
-- missing, unverifiable) or one of the two non-verdicts: error (unreadable after retries) and vanished
-- (deleted between listing and reading, named by no manifest).
CREATE TABLE reliability.checksum_results (
    interval_key      text        NOT NULL,
    bucket            text        NOT NULL,
    key               text        NOT NULL,
    checked_at        timestamptz NOT NULL,
    outcome           text        NOT NULL CHECK (outcome IN ('ok', 'mismatch', 'size_mismatch', 'missing',
                                                              'unverifiable', 'error', 'vanished')),
    source            text        CHECK (source IN ('manifest', 's3_checksum', 'metadata')),
    expected_sha256   text,
    actual_sha256     text,
    expected_size     bigint,
    actual_size       bigint,
    etag              text,
    last_modified     timestamptz,
    attempts          integer     NOT NULL DEFAULT 0,
    error             text,
    manifest_problem  text,
    notes             text[]      NOT NULL DEFAULT '{}',
    duration_ms       integer,
    PRIMARY KEY (interval_key, bucket, key)
);
CREATE INDEX checksum_results_key_idx ON reliability.checksum_results (bucket, key, checked_at DESC);
CREATE INDEX checksum_results_checked_idx ON reliability.checksum_results (checked_at);
