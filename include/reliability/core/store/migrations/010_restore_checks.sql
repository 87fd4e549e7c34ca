-- Restore checks beyond pg_restore (issue 19): every foreign key on the restored rows, each owned
-- sequence against its column, NOT VALID constraints listed. One row per checked object, counts per
-- table and per test. Keyed like 004_restore.sql: a rerun of the same interval replaces its rows.
CREATE TABLE reliability.restore_test_checks (
    interval_key text    NOT NULL,
    database     text    NOT NULL,
    table_name   text    NOT NULL,               -- the table the object belongs to (the referencing one)
    kind         text    NOT NULL CHECK (kind IN ('foreign_key', 'sequence', 'not_valid')),
    name         text    NOT NULL,               -- constraint or sequence
    ok           boolean NOT NULL,
    violations   bigint,                         -- foreign_key: rows referencing no row
    detail       text    NOT NULL DEFAULT '',
    PRIMARY KEY (interval_key, database, table_name, kind, name)
);

ALTER TABLE reliability.restore_test_tables
    ADD COLUMN foreign_key_violations bigint  NOT NULL DEFAULT 0,
    ADD COLUMN sequences_behind       integer NOT NULL DEFAULT 0;

ALTER TABLE reliability.restore_tests
    ADD COLUMN foreign_keys_checked       integer,
    ADD COLUMN foreign_key_violations     bigint,
    ADD COLUMN sequences_checked          integer,
    ADD COLUMN sequences_behind           integer,
    ADD COLUMN not_valid_constraints      integer,
    ADD COLUMN collation_version_mismatch boolean;
