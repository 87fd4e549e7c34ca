-- Checksum validation checks every integrity source S3 keeps (issue 14): a verdict names the most trusted
-- source checked, records which sources agreed and which did not (a disagreement is the verdict
-- `conflict`), why an object could not be verified, and how many S3 requests its check took.

ALTER TABLE reliability.checksum_results DROP CONSTRAINT checksum_results_outcome_check;
ALTER TABLE reliability.checksum_results ADD CONSTRAINT checksum_results_outcome_check
    CHECK (outcome IN ('ok', 'mismatch', 'size_mismatch', 'missing', 'unverifiable', 'conflict', 'error',
                       'vanished'));

-- 's3_checksum' (S3's full-object SHA-256 before this migration) is now 's3_sha256'.
ALTER TABLE reliability.checksum_results DROP CONSTRAINT checksum_results_source_check;
UPDATE reliability.checksum_results SET source = 's3_sha256' WHERE source = 's3_checksum';
UPDATE reliability.checksum_objects SET last_source = 's3_sha256' WHERE last_source = 's3_checksum';
ALTER TABLE reliability.checksum_results ADD CONSTRAINT checksum_results_source_check
    CHECK (source IN ('manifest', 's3_sha256', 's3_sha1', 's3_crc64nvme', 's3_crc32c', 's3_crc32',
                      's3_composite', 'metadata', 'etag_md5', 'etag_multipart', 'canary'));

ALTER TABLE reliability.checksum_results
    ADD COLUMN agreeing            text[]  NOT NULL DEFAULT '{}',  -- sources matching the bytes read
    ADD COLUMN disagreeing         text[]  NOT NULL DEFAULT '{}',  -- sources that do not
    ADD COLUMN unverifiable_reason text,     -- no_integrity_data, etag_sse_kms, etag_sse_c, ...
    ADD COLUMN requests            integer,  -- S3 requests of the check (GETs and metadata calls)
    ADD COLUMN parts_method        text;     -- attributes | head | head_uniform (multipart objects)
