-- build_size_watchdog: where a measured build came from, 's3' (uploaded by CI) or 'local' (a folder on
-- the worker named in the trigger form). Only S3 builds make baselines, and a local folder can never
-- replace a build recorded from S3 (its rows are keyed by build id, which a folder name could copy).
ALTER TABLE reliability.build_size_builds
    ADD COLUMN origin text NOT NULL DEFAULT 's3' CHECK (origin IN ('s3', 'local'));
UPDATE reliability.build_size_builds SET origin = 'local' WHERE source NOT LIKE '%(s3://%';
ALTER TABLE reliability.build_size_builds ALTER COLUMN origin DROP DEFAULT;
