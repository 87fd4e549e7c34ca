"""Reading and judging objects on the real S3 API (moto server), faults injected by a proxy in between."""

from __future__ import annotations

import os
import tracemalloc
from dataclasses import replace

import pytest

from reliability.backups.manifest import manifest_key
from reliability.checksum.hashing import (
    CONFLICT,
    ERROR,
    MISSING,
    OK,
    SIZE_MISMATCH,
    VANISHED,
    ObjectToCheck,
    check_object,
    check_objects,
)
from tests.checksum.support import make_manifest, put_dump, sha256_b64, sha256_hex

DUMP = "backups/platform/2026/01/02/platform-20260102T020000Z.dump"


def _check(client, bucket, config, key, manifest: bool = False, sleeps=None):
    item = ObjectToCheck(key=key, size=0, manifest_key=manifest_key(key) if manifest else None)
    return check_object(
        client, bucket, item, config, sleep=(sleeps.append if sleeps is not None else lambda _: None)
    )


def test_each_expected_checksum_source_verifies_an_intact_object(s3_client, s3_bucket, config):
    data = os.urandom(50_000)
    put_dump(s3_client, s3_bucket, DUMP, data)
    s3_client.put_object(Bucket=s3_bucket, Key="uploads/t/a.bin", Body=data, ChecksumAlgorithm="SHA256")
    s3_client.put_object(
        Bucket=s3_bucket, Key="uploads/t/b.bin", Body=data, Metadata={"sha256": sha256_hex(data)}
    )
    s3_client.put_object(
        Bucket=s3_bucket, Key="uploads/t/c.bin", Body=data, Metadata={"sha256": sha256_b64(data)}
    )
    s3_client.put_object(Bucket=s3_bucket, Key="uploads/t/d.bin", Body=data)

    dump = _check(s3_client, s3_bucket, config, DUMP, manifest=True)
    assert (dump.outcome, dump.source, dump.actual_size, dump.expected_size) == (
        OK,
        "manifest",
        50_000,
        50_000,
    )
    assert dump.actual_sha256 == sha256_hex(data)
    assert set(dump.agreeing) == {"manifest", "s3_crc32", "etag_md5"}
    # boto3 sends a CRC32 with every PutObject; the ETag of a single-part upload is its MD5.
    results = [_check(s3_client, s3_bucket, config, f"uploads/t/{n}.bin") for n in "abcd"]
    assert [(r.outcome, r.source) for r in results] == [(OK, "s3_sha256")] + [(OK, "s3_crc32")] * 3
    assert [set(r.agreeing) for r in results] == [
        {"s3_sha256", "etag_md5"},
        {"s3_crc32", "metadata", "etag_md5"},
        {"s3_crc32", "metadata", "etag_md5"},
        {"s3_crc32", "etag_md5"},
    ]
    assert all(r.disagreeing == () and r.requests == 1 for r in results)


def test_sources_that_disagree_are_a_conflict_never_verified(s3_client, s3_bucket, config):
    data = os.urandom(1000)
    s3_client.put_object(
        Bucket=s3_bucket, Key=DUMP, Body=data, ChecksumAlgorithm="SHA256", Metadata={"sha256": "0" * 64}
    )
    s3_client.put_object(Bucket=s3_bucket, Key=manifest_key(DUMP), Body=make_manifest(DUMP, data).to_json())
    for result in (
        _check(s3_client, s3_bucket, config, DUMP, manifest=True),
        _check(s3_client, s3_bucket, config, DUMP),
    ):
        assert result.outcome == CONFLICT and result.disagreeing == ("metadata",)
        assert any("sources disagree" in n and "metadata" in n for n in result.notes)
    assert _check(s3_client, s3_bucket, config, DUMP, manifest=True).source == "manifest"


def test_truncated_dump_is_a_size_mismatch(s3_client, s3_bucket, config):
    data = os.urandom(30_000)
    put_dump(s3_client, s3_bucket, DUMP, data)
    s3_client.put_object(Bucket=s3_bucket, Key=DUMP, Body=data[:29_000])
    result = _check(s3_client, s3_bucket, config, DUMP, manifest=True)
    assert (result.outcome, result.actual_size, result.expected_size) == (SIZE_MISMATCH, 29_000, 30_000)


def test_object_deleted_after_listing_is_missing_if_a_manifest_names_it_else_vanished(
    s3_client, s3_bucket, config
):
    data = b"x" * 100
    put_dump(s3_client, s3_bucket, DUMP, data)
    s3_client.put_object(Bucket=s3_bucket, Key="uploads/t/gone.txt", Body=data)
    s3_client.delete_object(Bucket=s3_bucket, Key=DUMP)
    s3_client.delete_object(Bucket=s3_bucket, Key="uploads/t/gone.txt")

    dump = _check(s3_client, s3_bucket, config, DUMP, manifest=True)
    upload = _check(s3_client, s3_bucket, config, "uploads/t/gone.txt")
    assert (dump.outcome, dump.expected_sha256) == (MISSING, sha256_hex(data))
    assert upload.outcome == VANISHED and not upload.is_verdict


@pytest.mark.parametrize(
    "key",
    [
        "uploads/t/with space.txt",
        "uploads/t/ünïcödé ✓.bin",
        "uploads/t/100%.txt",
        "uploads/t/%2F%20literal.txt",
        "uploads/t/plus+and?query#hash.txt",
    ],
)
def test_awkward_keys_are_read_and_verified(s3_client, s3_bucket, proxied_client, fault_proxy, config, key):
    data = key.encode() * 50
    s3_client.put_object(Bucket=s3_bucket, Key=key, Body=data, Metadata={"sha256": sha256_hex(data)})
    result = _check(proxied_client, s3_bucket, config, key)
    assert (result.key, result.outcome, result.actual_size) == (key, OK, len(data))
    assert fault_proxy.gets(key) == 1


def test_zero_byte_object_is_verified(s3_client, s3_bucket, config):
    s3_client.put_object(
        Bucket=s3_bucket, Key="uploads/t/empty", Body=b"", Metadata={"sha256": sha256_hex(b"")}
    )
    s3_client.put_object(Bucket=s3_bucket, Key="uploads/t/empty-s3", Body=b"", ChecksumAlgorithm="SHA256")
    assert [
        (r.outcome, r.actual_size)
        for r in (
            _check(s3_client, s3_bucket, config, "uploads/t/empty"),
            _check(s3_client, s3_bucket, config, "uploads/t/empty-s3"),
        )
    ] == [(OK, 0), (OK, 0)]


def test_composite_multipart_checksum_is_verified_with_the_metadata(s3_client, s3_bucket, config):
    parts_data = [os.urandom(5 * 1024 * 1024), os.urandom(1000)]
    whole = b"".join(parts_data)
    for key, metadata in (
        ("uploads/t/mp-meta.bin", {"sha256": sha256_hex(whole)}),
        ("uploads/t/mp-bare.bin", {}),
    ):
        upload = s3_client.create_multipart_upload(
            Bucket=s3_bucket, Key=key, ChecksumAlgorithm="SHA256", Metadata=metadata
        )
        parts = []
        for number, chunk in enumerate(parts_data, start=1):
            part = s3_client.upload_part(
                Bucket=s3_bucket,
                Key=key,
                UploadId=upload["UploadId"],
                PartNumber=number,
                Body=chunk,
                ChecksumAlgorithm="SHA256",
            )
            parts.append(
                {"PartNumber": number, "ETag": part["ETag"], "ChecksumSHA256": part["ChecksumSHA256"]}
            )
        s3_client.complete_multipart_upload(
            Bucket=s3_bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
        )
    with_meta = _check(s3_client, s3_bucket, config, "uploads/t/mp-meta.bin")
    bare = _check(s3_client, s3_bucket, config, "uploads/t/mp-bare.bin")
    assert (with_meta.outcome, with_meta.source) == (OK, "s3_composite")
    assert set(with_meta.agreeing) == {"s3_composite (sha256)", "metadata", "etag_multipart"}
    assert (bare.outcome, bare.source, bare.parts_method) == (OK, "s3_composite", "head")


def test_corrupt_manifest_is_reported_and_the_next_source_decides(s3_client, s3_bucket, config):
    data = os.urandom(1000)
    s3_client.put_object(Bucket=s3_bucket, Key=DUMP, Body=data, Metadata={"sha256": sha256_hex(data)})
    s3_client.put_object(Bucket=s3_bucket, Key=manifest_key(DUMP), Body=b'{"manifest_version": 1, "sha2')
    result = _check(s3_client, s3_bucket, config, DUMP, manifest=True)
    assert (result.outcome, result.source) == (OK, "s3_crc32") and "metadata" in result.agreeing
    assert "not valid JSON" in result.manifest_problem


def test_manifest_about_another_object_or_deleted_is_not_used(s3_client, s3_bucket, config):
    data = os.urandom(1000)
    other = DUMP.replace("0102", "0103")
    put_dump(s3_client, s3_bucket, DUMP, data, dump_key=other)
    wrong = _check(s3_client, s3_bucket, config, DUMP, manifest=True)
    assert (wrong.outcome, wrong.source) == (OK, "s3_crc32")
    assert "not the object next to it" in wrong.manifest_problem

    s3_client.delete_object(Bucket=s3_bucket, Key=manifest_key(DUMP))
    gone = _check(s3_client, s3_bucket, config, DUMP, manifest=True)
    assert "manifest" not in gone.agreeing and "deleted after it was listed" in gone.manifest_problem


def test_throttled_reads_are_retried_with_backoff_until_they_succeed(
    s3_client, s3_bucket, proxied_client, fault_proxy, config
):
    data = os.urandom(10_000)
    s3_client.put_object(Bucket=s3_bucket, Key="uploads/t/hot.bin", Body=data, ChecksumAlgorithm="SHA256")
    fault_proxy.fail(
        "uploads/t/hot.bin", times=3
    )  # botocore tries twice, then our second attempt tries twice
    sleeps: list[float] = []
    result = _check(proxied_client, s3_bucket, config, "uploads/t/hot.bin", sleeps=sleeps)
    assert (result.outcome, result.attempts) == (OK, 2)
    assert fault_proxy.gets("uploads/t/hot.bin") == 4
    assert len(sleeps) == 1


def test_persistent_5xx_becomes_a_read_error_without_hiding_other_verdicts(
    s3_client, s3_bucket, proxied_client, fault_proxy, config
):
    data = os.urandom(5000)
    for name in ("a", "b", "c", "d"):
        s3_client.put_object(
            Bucket=s3_bucket, Key=f"uploads/t/{name}", Body=data, Metadata={"sha256": sha256_hex(data)}
        )
    fault_proxy.fail(
        "uploads/t/b", status=500, code="InternalError", message="We encountered an internal error."
    )
    fault_proxy.fail("uploads/t/c")  # 503 SlowDown, every time
    sleeps: list[float] = []
    items = [ObjectToCheck(f"uploads/t/{n}", 5000) for n in "abcd"]
    results = {r.key: r for r in check_objects(proxied_client, s3_bucket, items, config, sleep=sleeps.append)}

    assert {k: r.outcome for k, r in results.items()} == {
        "uploads/t/a": OK,
        "uploads/t/b": ERROR,
        "uploads/t/c": ERROR,
        "uploads/t/d": OK,
    }
    assert results["uploads/t/b"].error.startswith("InternalError (HTTP 500)")
    assert results["uploads/t/c"].error.startswith("SlowDown (HTTP 503)")
    assert results["uploads/t/c"].attempts == config.read_attempts
    # read_attempts whole reads, each of which botocore tried twice.
    assert fault_proxy.gets("uploads/t/c") == 2 * config.read_attempts
    assert len(sleeps) == 2 * (config.read_attempts - 1)


def test_connection_lost_mid_body_is_retried_as_a_new_read(
    s3_client, s3_bucket, proxied_client, fault_proxy, config
):
    data = os.urandom(200_000)
    s3_client.put_object(
        Bucket=s3_bucket, Key="uploads/t/big.bin", Body=data, Metadata={"sha256": sha256_hex(data)}
    )
    fault_proxy.cut("uploads/t/big.bin", after_bytes=50_000, times=1)
    result = _check(proxied_client, s3_bucket, config, "uploads/t/big.bin")
    assert (result.outcome, result.attempts, result.actual_size) == (OK, 2, 200_000)
    assert fault_proxy.gets("uploads/t/big.bin") == 2


def test_one_get_per_object_and_no_head(s3_client, s3_bucket, proxied_client, fault_proxy, config):
    data = os.urandom(3000)
    keys = [f"uploads/t/{i}.bin" for i in range(12)]
    for i, key in enumerate(keys):
        extra = {"ChecksumAlgorithm": "SHA256"} if i % 2 else {"Metadata": {"sha256": sha256_hex(data)}}
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=data, **extra)
    results = list(check_objects(proxied_client, s3_bucket, [ObjectToCheck(k, 3000) for k in keys], config))
    assert sorted(r.outcome for r in results) == [OK] * 12
    assert fault_proxy.gets() == 12 and fault_proxy.count("HEAD") == 0
    assert all(fault_proxy.gets(k) == 1 for k in keys)


def test_memory_stays_bounded_by_concurrency_and_chunk_size(s3_client, s3_bucket, config):
    data = os.urandom(24 * 1024 * 1024)
    keys = [f"uploads/t/large-{i}.bin" for i in range(3)]
    for key in keys:
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=data, Metadata={"sha256": sha256_hex(data)})
    del data
    bounded = replace(config, chunk_bytes=256 * 1024, concurrency=3)
    tracemalloc.start()
    try:
        results = list(check_objects(s3_client, s3_bucket, [ObjectToCheck(k, 0) for k in keys], bounded))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.outcome for r in results] == [OK] * 3
    # 72 MiB were hashed; what was held at once stays within a few chunks per thread.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
