-- backup_verify: one row per database and run (interval), and one per table of that dump.
-- A rerun of the same interval replaces both (delete-then-insert in one transaction).
CREATE TABLE reliability.backup_dumps (
    interval_key     text        NOT NULL,
    database         text        NOT NULL,
    mode             text        NOT NULL CHECK (mode IN ('backup', 'verify')),
    verdict          text        NOT NULL CHECK (verdict IN ('verified', 'suspicious', 'corrupt', 'failed')),
    reasons          jsonb       NOT NULL DEFAULT '[]',
    warnings         jsonb       NOT NULL DEFAULT '[]',
    bucket           text        NOT NULL,
    dump_key         text        NOT NULL,
    manifest_key     text,                    -- NULL when no manifest was written (failed upload, verify mode)
    uploaded         boolean     NOT NULL,    -- the object exists (completed upload, or the verified object)
    format           text,
    compression      integer,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz NOT NULL,
    dumped_at        timestamptz,             -- when the dump's bytes were made (= finished_at for a new dump)
    size_bytes       bigint      NOT NULL DEFAULT 0,
    sha256           text,
    tables           integer     NOT NULL DEFAULT 0,
    rows             bigint      NOT NULL DEFAULT 0,
    server_version   text,
    pg_dump_version  text,
    pg_dump_exit     integer,
    toc              jsonb       NOT NULL DEFAULT '{}',
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (interval_key, database, mode)
);
-- "The newest verified dump of X" (restore test, backup age) and the size history.
CREATE INDEX backup_dumps_usable_idx ON reliability.backup_dumps (database, dumped_at DESC)
    WHERE verdict IN ('verified', 'suspicious') AND uploaded;

CREATE TABLE reliability.backup_tables (
    interval_key      text    NOT NULL,
    database          text    NOT NULL,
    mode              text    NOT NULL,
    table_name        text    NOT NULL,       -- as in the manifest, e.g. public.pageviews
    rows              bigint  NOT NULL,
    digest            text    NOT NULL,
    columns           jsonb   NOT NULL DEFAULT '[]',
    source_reltuples  bigint,                 -- the source's row estimate at dump time, if read
    PRIMARY KEY (interval_key, database, mode, table_name),
    FOREIGN KEY (interval_key, database, mode)
        REFERENCES reliability.backup_dumps (interval_key, database, mode) ON DELETE CASCADE
);
