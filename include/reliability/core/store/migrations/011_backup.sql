-- backup_verify: one row per dump object, so a rerun of the same interval keeps the row of the dump
-- its earlier attempt left in S3 (each new attempt writes a new object under a new key; the job never
-- deletes a backup). The dump key joins the primary key; backup_tables follows it.
ALTER TABLE reliability.backup_tables ADD COLUMN dump_key text;
UPDATE reliability.backup_tables t SET dump_key = d.dump_key
  FROM reliability.backup_dumps d
 WHERE (t.interval_key, t.database, t.mode) = (d.interval_key, d.database, d.mode);
DELETE FROM reliability.backup_tables WHERE dump_key IS NULL;
ALTER TABLE reliability.backup_tables ALTER COLUMN dump_key SET NOT NULL;

ALTER TABLE reliability.backup_tables DROP CONSTRAINT backup_tables_interval_key_database_mode_fkey;
ALTER TABLE reliability.backup_tables DROP CONSTRAINT backup_tables_pkey;
ALTER TABLE reliability.backup_dumps DROP CONSTRAINT backup_dumps_pkey;

ALTER TABLE reliability.backup_dumps ADD PRIMARY KEY (interval_key, database, mode, dump_key);
ALTER TABLE reliability.backup_tables ADD PRIMARY KEY (interval_key, database, mode, dump_key, table_name);
ALTER TABLE reliability.backup_tables ADD FOREIGN KEY (interval_key, database, mode, dump_key)
    REFERENCES reliability.backup_dumps (interval_key, database, mode, dump_key) ON DELETE CASCADE;
