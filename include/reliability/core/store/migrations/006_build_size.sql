-- build_size_watchdog: measured builds, their bundles, and the size cache.
--
-- A build is a fact of its own, so its rows are keyed by (app, build_id) rather than by the run that
-- measured it: a rerun, or the daily run measuring the same newest build again, replaces the rows
-- (delete-then-insert in one transaction) and never doubles the build in a baseline median.
CREATE TABLE reliability.build_size_builds (
    app                 text        NOT NULL,
    build_id            text        NOT NULL,
    branch              text,
    commit_sha          text,
    built_at            timestamptz NOT NULL,  -- build-info created_at, else the newest file's time
    measured_at         timestamptz NOT NULL,
    interval_key        text        NOT NULL,  -- the run that measured it last
    source              text        NOT NULL,
    files               integer     NOT NULL,
    raw_bytes           bigint      NOT NULL,
    gzip_bytes          bigint      NOT NULL,
    brotli_bytes        bigint      NOT NULL,
    verdict             text        NOT NULL CHECK (verdict IN ('ok', 'warning', 'over_budget')),
    baseline_branch     text        NOT NULL,
    baseline_build_ids  text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (app, build_id)
);
CREATE INDEX build_size_builds_history_idx ON reliability.build_size_builds (app, branch, built_at DESC);

-- One row per bundle of a build, including bundles the baseline had and this build lacks
-- (verdict 'removed', sizes NULL), so the history shows when a bundle went away.
CREATE TABLE reliability.build_size_bundles (
    app           text    NOT NULL,
    build_id      text    NOT NULL,
    bundle        text    NOT NULL,
    files         integer NOT NULL,
    raw_bytes     bigint,
    gzip_bytes    bigint,
    brotli_bytes  bigint,
    verdict       text    NOT NULL CHECK (verdict IN ('ok', 'warning', 'over_budget', 'new', 'removed')),
    PRIMARY KEY (app, build_id, bundle),
    FOREIGN KEY (app, build_id) REFERENCES reliability.build_size_builds ON DELETE CASCADE,
    CHECK ((verdict = 'removed') = (raw_bytes IS NULL))
);

-- Compressed sizes by content: a file that did not change is never compressed again. `settings` names
-- the encoders and their versions, so an upgrade that changes the output starts a fresh cache.
-- `last_used` (touched at most once a day) lets old entries be pruned.
CREATE TABLE reliability.build_size_cache (
    settings      text        NOT NULL,
    sha256        bytea       NOT NULL CHECK (length(sha256) = 32),
    raw_bytes     bigint      NOT NULL,
    gzip_bytes    bigint      NOT NULL,
    brotli_bytes  bigint      NOT NULL,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_used     date        NOT NULL DEFAULT current_date,
    PRIMARY KEY (settings, sha256)
);
CREATE INDEX build_size_cache_last_used_idx ON reliability.build_size_cache (last_used);
