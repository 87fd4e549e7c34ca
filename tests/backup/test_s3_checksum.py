"""Issue 14, backup side: the dump is uploaded with a full-object CRC64NVME that S3 checks and stores,
and the manifest records it."""

import base64
import json
from dataclasses import asdict

from awscrt.checksums import crc64nvme

from reliability.backup.models import BackupTargets
from reliability.backup.run import execute
from reliability.backup.upload import MultipartUpload, UploadFailed
from reliability.backups.manifest import Manifest, S3Checksum, manifest_key
from tests.backup.test_backup_job import manifest_of, request


def crc_of(body: bytes) -> str:
    return base64.b64encode(crc64nvme(body).to_bytes(8, "big")).decode()


def stored_checksum(s3_client, bucket, key) -> dict:
    head = s3_client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    return {k: v for k, v in head.items() if k.startswith("Checksum")}


def test_multipart_dump_is_stored_with_s3s_full_object_crc64nvme_and_the_manifest_holds_it(
    padded_dsn, config, s3_client, s3_bucket, results_dsn
):
    result = execute(
        request(compression=0), config, BackupTargets(padded_dsn, s3_client, s3_bucket, results_dsn)
    )
    assert result.verdict.verdict == "verified", result.verdict.reasons
    body = s3_client.get_object(Bucket=s3_bucket, Key=result.dump_key)["Body"].read()
    assert len(body) > 2 * config.part_size_bytes  # several parts, combined by S3 into one full-object CRC
    expected = crc_of(body)
    assert stored_checksum(s3_client, s3_bucket, result.dump_key) == {
        "ChecksumCRC64NVME": expected,
        "ChecksumType": "FULL_OBJECT",
    }
    manifest = manifest_of(s3_client, s3_bucket, result.dump_key)
    assert manifest.s3_checksum == S3Checksum("CRC64NVME", "FULL_OBJECT", expected)
    assert result.summary()["crc64nvme"] == expected


def test_directory_dump_tar_carries_the_checksum_too(config, targets, s3_client):
    result = execute(request(format="directory", jobs=2), config, targets)
    assert result.verdict.verdict == "verified", result.verdict.reasons
    body = s3_client.get_object(Bucket=targets.bucket, Key=result.dump_key)["Body"].read()
    manifest = manifest_of(s3_client, targets.bucket, result.dump_key)
    assert manifest.s3_checksum.value == crc_of(body) == result.crc64nvme


def test_every_part_is_sent_with_its_own_crc64nvme(s3_client, s3_bucket):
    sent = []

    class Recording:
        def upload_part(self, **kwargs):
            sent.append((kwargs["ChecksumAlgorithm"], kwargs["ChecksumCRC64NVME"], crc_of(kwargs["Body"])))
            return s3_client.upload_part(**kwargs)

        def __getattr__(self, name):
            return getattr(s3_client, name)

    upload = MultipartUpload(Recording(), s3_bucket, "parts/x.bin", part_size=5 * 1024 * 1024).start()
    data = bytes(range(256)) * (45 * 1024)  # 11.25 MiB: three parts
    upload.write(data)
    upload.complete()
    assert [(a, c) for a, c, _ in sent] == [("CRC64NVME", real) for _, _, real in sent] and len(sent) == 3
    assert upload.checksum == crc_of(data)


def test_a_server_that_stores_another_checksum_fails_the_upload_and_keeps_no_object(s3_client, s3_bucket):
    class Lying:
        def complete_multipart_upload(self, **kwargs):
            return {**s3_client.complete_multipart_upload(**kwargs), "ChecksumCRC64NVME": crc_of(b"other")}

        def __getattr__(self, name):
            return getattr(s3_client, name)

    upload = MultipartUpload(Lying(), s3_bucket, "lying/x.bin", part_size=5 * 1024 * 1024).start()
    upload.write(b"dump bytes")
    try:
        upload.complete()
        raise AssertionError("a mismatching stored checksum was accepted")
    except UploadFailed as exc:
        assert "CRC64NVME" in str(exc)
    assert s3_client.list_objects_v2(Bucket=s3_bucket).get("KeyCount", 0) == 0


def test_a_manifest_without_s3_checksum_still_parses(config, targets, s3_client):
    result = execute(request(), config, targets)
    data = json.loads(
        s3_client.get_object(Bucket=targets.bucket, Key=manifest_key(result.dump_key))["Body"].read()
    )
    assert data["s3_checksum"] == asdict(S3Checksum("CRC64NVME", "FULL_OBJECT", result.crc64nvme))
    del data["s3_checksum"]  # as every manifest written before issue 14
    old = Manifest.from_json(json.dumps(data))
    assert old.s3_checksum is None and old.sha256 == result.sha256
