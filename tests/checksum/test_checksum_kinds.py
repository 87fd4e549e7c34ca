"""Objects stored every way S3 clients store them, intact and damaged, on the moto S3 server (issue 14).

Damage is done by the fault proxy on the way out of moto (a flipped byte, a body cut short with a
Content-Length to match): to the reader it is rot at rest, with every checksum S3 recorded intact.
moto 5.2.5 does not list ``ObjectParts`` in GetObjectAttributes; the proxy adds them (from moto's own
HeadObject part answers) where a test needs S3's behaviour for objects uploaded with checksums.
"""

from __future__ import annotations

import os

import pytest

from reliability.backups.manifest import manifest_key
from reliability.checksum.hashing import (
    ERROR,
    MISMATCH,
    OK,
    SIZE_MISMATCH,
    UNVERIFIABLE,
    ObjectToCheck,
    check_object,
)
from stack.demo_uploads import PART_BYTES, put_multipart
from tests.checksum.support import put_dump, sha256_hex

SMALL = 40_000
# kind -> (expected deciding source, multipart?)
KINDS = {
    "manifest": ("manifest", False),
    "sha256": ("s3_sha256", False),
    "sha1": ("s3_sha1", False),
    "crc32": ("s3_crc32", False),
    "crc32c": ("s3_crc32c", False),
    "crc64nvme": ("s3_crc64nvme", False),
    "metadata": ("metadata", False),
    "etag_md5": ("etag_md5", False),
    "multipart_crc32_full": ("s3_crc32", True),
    "multipart_composite_sha256": ("s3_composite", True),
    "multipart_composite_crc32": ("s3_composite", True),
    "etag_multipart": ("etag_multipart", True),
}


def key_of(kind: str) -> str:
    return f"{'backups/db' if kind == 'manifest' else 'uploads/kinds'}/{kind}.bin"


def store_every_kind(s3, bare, bucket: str) -> dict[str, bytes]:
    """One object of each kind; returns their bytes."""
    stored = {}
    for kind, (_, multipart) in KINDS.items():
        key = key_of(kind)
        data = os.urandom(PART_BYTES + 70_000 if multipart else SMALL)
        if kind == "manifest":
            put_dump(s3, bucket, key, data)
        elif kind in ("sha256", "sha1", "crc32c", "crc64nvme"):
            s3.put_object(Bucket=bucket, Key=key, Body=data, ChecksumAlgorithm=kind.upper())
        elif kind == "crc32":
            s3.put_object(Bucket=bucket, Key=key, Body=data)  # boto3's default
        elif kind == "metadata":
            bare.put_object(Bucket=bucket, Key=key, Body=data, Metadata={"sha256": sha256_hex(data)})
        elif kind == "etag_md5":
            bare.put_object(Bucket=bucket, Key=key, Body=data)
        elif kind == "multipart_crc32_full":
            put_multipart(s3, bucket, key, data, "CRC32", "FULL_OBJECT")
        elif kind == "multipart_composite_sha256":
            put_multipart(s3, bucket, key, data, "SHA256", "COMPOSITE")
        elif kind == "multipart_composite_crc32":
            put_multipart(s3, bucket, key, data, "CRC32", "COMPOSITE")
        else:
            put_multipart(bare, bucket, key, data, None, None)
        stored[kind] = data
    return stored


def check(client, bucket, config, kind, *, listed=None):
    key = key_of(kind)
    size, etag = listed or (0, None)
    item = ObjectToCheck(key, size, manifest_key(key) if kind == "manifest" else None, etag)
    return check_object(client, bucket, item, config, sleep=lambda _: None)


@pytest.fixture
def every_kind(s3_client, bare_client, s3_bucket):
    return store_every_kind(s3_client, bare_client, s3_bucket)


def test_every_kind_is_verified_by_its_source_in_one_get_and_at_most_one_metadata_call(
    every_kind, proxied_client, fault_proxy, s3_bucket, config
):
    for kind, (_, multipart) in KINDS.items():
        if multipart:  # S3 lists the parts of objects uploaded with checksums (moto 5.2.5 does not)
            fault_proxy.object_parts[key_of(kind)] = None
    for kind, (source, multipart) in KINDS.items():
        result = check(proxied_client, s3_bucket, config, kind)
        assert (result.outcome, result.source) == (OK, source), (kind, result.notes, result.error)
        assert source in {label.split(" ")[0] for label in result.agreeing} and not result.disagreeing
        assert fault_proxy.gets(key_of(kind)) == 1
        attributes = fault_proxy.count("ATTRIBUTES", key_of(kind))
        heads = fault_proxy.count("HEAD", key_of(kind))
        metadata_calls = attributes + heads
        assert metadata_calls == (1 if multipart else 0), kind
        # No GetObjectAttributes for an object without checksums: S3 would not list its parts.
        assert (attributes, heads) == ((0, 1) if kind == "etag_multipart" else (metadata_calls, 0)), kind
        assert result.requests == 1 + metadata_calls + (1 if kind == "manifest" else 0)
    composite = check(proxied_client, s3_bucket, config, "multipart_composite_crc32")
    assert set(composite.agreeing) == {"s3_composite (crc32)", "etag_multipart"}


def test_a_byte_rotted_at_rest_is_a_mismatch_naming_the_source_that_caught_it(
    every_kind, proxied_client, fault_proxy, s3_bucket, config
):
    for kind in KINDS:
        fault_proxy.flip(key_of(kind), at=len(every_kind[kind]) // 2 + 1)
    for kind, (source, _) in KINDS.items():
        result = check(proxied_client, s3_bucket, config, kind)
        assert (result.outcome, result.source) == (MISMATCH, source), (kind, result.notes)
        assert result.actual_size == len(every_kind[kind]) and not result.agreeing
        assert result.actual_sha256 != sha256_hex(every_kind[kind])


def test_a_truncated_object_is_a_size_mismatch(
    every_kind, s3_client, proxied_client, fault_proxy, s3_bucket, config
):
    for kind, (source, _) in KINDS.items():
        head = s3_client.head_object(Bucket=s3_bucket, Key=key_of(kind))
        fault_proxy.truncate(key_of(kind), keep=len(every_kind[kind]) - 1000)
        result = check(proxied_client, s3_bucket, config, kind, listed=(head["ContentLength"], head["ETag"]))
        assert (result.outcome, result.source) == (SIZE_MISMATCH, source), (kind, result.notes)
        assert result.actual_size == len(every_kind[kind]) - 1000


def test_part_sizes_come_from_get_object_attributes_when_s3_lists_them(
    every_kind, proxied_client, fault_proxy, s3_bucket, config
):
    key = key_of("multipart_composite_sha256")
    fault_proxy.object_parts[key] = None  # the true sizes, as S3 lists them for checksummed uploads
    result = check(proxied_client, s3_bucket, config, "multipart_composite_sha256")
    assert (result.outcome, result.parts_method, result.requests) == (OK, "attributes", 2)
    assert fault_proxy.count("HEAD", key) == 0


@pytest.mark.parametrize(
    "status, code", [(403, "AccessDenied"), (501, "NotImplemented"), (405, "MethodNotAllowed")]
)
def test_get_object_attributes_denied_or_unsupported_falls_back_to_head_object(
    every_kind, proxied_client, fault_proxy, s3_bucket, config, status, code
):
    key = key_of("multipart_composite_sha256")
    fault_proxy.object_parts[key] = None
    fault_proxy.fail_attributes(key, status=status, code=code)
    result = check(proxied_client, s3_bucket, config, "multipart_composite_sha256")
    assert (result.outcome, result.source, result.parts_method) == (OK, "s3_composite", "head")
    assert fault_proxy.count("HEAD", key) == 1


def test_part_sizes_that_do_not_add_up_are_an_error_for_that_object_not_a_verdict(
    every_kind, proxied_client, fault_proxy, s3_bucket, config
):
    key = key_of("multipart_composite_sha256")
    fault_proxy.object_parts[key] = [PART_BYTES, 70_000 + 1]
    result = check(proxied_client, s3_bucket, config, "multipart_composite_sha256")
    assert result.outcome == ERROR and not result.is_verdict
    assert "adding up to" in result.error and "no verdict" in result.error
    assert result.attempts == 1 and fault_proxy.gets(key) == 1  # not retried: the answer would not change


def test_unequal_parts_found_by_head_object_are_checked_before_a_verdict(
    s3_client, bare_client, proxied_client, fault_proxy, s3_bucket, config
):
    # Parts of 5, 6 and 1 MiB: part 1 and the total suggest 5 + 5 + 2, which is wrong.
    mib = 1024 * 1024
    data = os.urandom(12 * mib)
    key = "uploads/kinds/uneven.bin"
    upload = bare_client.create_multipart_upload(Bucket=s3_bucket, Key=key)
    parts = []
    for number, (start, end) in enumerate(((0, 5 * mib), (5 * mib, 11 * mib), (11 * mib, 12 * mib)), start=1):
        answer = bare_client.upload_part(
            Bucket=s3_bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=data[start:end]
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    bare_client.complete_multipart_upload(
        Bucket=s3_bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    result = check_object(proxied_client, s3_bucket, ObjectToCheck(key, 0), config, sleep=lambda _: None)
    assert (result.outcome, result.source) == (OK, "etag_multipart")
    assert fault_proxy.gets(key) == 2 and fault_proxy.count("HEAD", key) == 3


@pytest.mark.parametrize("value", ["abc-2", "AAAA-2", "{good}-0", "{good}-two", "{good}-10001"])
def test_malformed_composite_checksum_strings_are_reported_not_guessed(
    every_kind, proxied_client, fault_proxy, s3_bucket, config, value
):
    key = key_of("multipart_composite_sha256")
    good = "A" * 43 + "="
    fault_proxy.rewrite_header(key, "x-amz-checksum-sha256", value.format(good=good))
    result = check(proxied_client, s3_bucket, config, "multipart_composite_sha256")
    # The multipart ETag still verifies the bytes; the malformed value is named, not used.
    assert (result.outcome, result.source) == (OK, "etag_multipart")
    assert any(
        "ChecksumSHA256" in note and "composite" in note.lower() or "base64" in note for note in result.notes
    )
    assert not any(label.startswith("s3_composite") for label in result.agreeing + result.disagreeing)


def test_malformed_checksum_as_the_only_source_leaves_the_object_unverifiable_with_the_reason(
    bare_client, proxied_client, fault_proxy, s3_bucket, config
):
    key = "uploads/kinds/kms.bin"
    bare_client.put_object(Bucket=s3_bucket, Key=key, Body=b"x" * 1000, ServerSideEncryption="aws:kms")
    fault_proxy.rewrite_header(key, "x-amz-checksum-crc32", "not base64!")
    result = check_object(proxied_client, s3_bucket, ObjectToCheck(key, 0), config, sleep=lambda _: None)
    assert (result.outcome, result.reason) == (UNVERIFIABLE, "malformed_checksum")
    assert any("SSE-KMS" in n for n in result.notes) and any("ChecksumCRC32" in n for n in result.notes)


def test_object_replaced_between_listing_and_reading_is_judged_as_read(s3_client, s3_bucket, config):
    key = "uploads/kinds/replaced.bin"
    s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"old" * 1000)
    listed = s3_client.head_object(Bucket=s3_bucket, Key=key)
    s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"new bytes" * 1000)
    item = ObjectToCheck(key, listed["ContentLength"], None, listed["ETag"])
    result = check_object(s3_client, s3_bucket, item, config, sleep=lambda _: None)
    assert (result.outcome, result.actual_size) == (OK, 9000) and result.etag != listed["ETag"]
