"""Expected-checksum resolution and configuration loading, without any server."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reliability.checksum.config import CONFIG_PATH, GIB, ChecksumConfig, ConfigError, load_config
from reliability.checksum.digests import StreamDigests, digest_of
from reliability.checksum.sources import (
    ManifestProblem,
    digest_to_hex,
    expected_from_manifest,
    find_expectations,
)
from tests.checksum.support import make_manifest

KEY = "backups/db/2026/01/02/db-20260102T020000Z.dump"


@given(st.binary(min_size=32, max_size=32))
def test_digest_given_as_hex_or_base64_reads_the_same(raw):
    assert digest_to_hex(raw.hex()) == digest_to_hex(raw.hex().upper()) == raw.hex()
    assert digest_to_hex(base64.b64encode(raw).decode()) == raw.hex()


@pytest.mark.parametrize("value", ["", "abc", "0" * 63, "g" * 64, base64.b64encode(b"x" * 31).decode()])
def test_anything_else_is_not_a_digest(value):
    assert digest_to_hex(value) is None


def test_manifest_gives_digest_and_size():
    data = b"dump bytes"
    expected = expected_from_manifest(make_manifest(KEY, data).to_json(), KEY + ".manifest.json", KEY)
    assert (expected.value.hex(), expected.size, expected.source) == (
        hashlib.sha256(data).hexdigest(),
        10,
        "manifest",
    )


def test_manifest_naming_the_object_by_url_is_accepted():
    manifest = make_manifest(f"s3://reliability-backups/{KEY}", b"x")
    assert expected_from_manifest(manifest.to_json(), KEY + ".manifest.json", KEY).size == 1


@pytest.mark.parametrize(
    "text, message",
    [
        (b"\x00\xff", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"manifest_version": 99}', "manifest_version 99"),
        (b'{"manifest_version": 1}', "missing or has a malformed"),
    ],
)
def test_unusable_manifest_says_why(text, message):
    with pytest.raises(ManifestProblem, match=message):
        expected_from_manifest(text, KEY + ".manifest.json", KEY)


def test_manifest_with_a_non_hex_digest_is_unusable():
    manifest = make_manifest(KEY, b"x", sha256="z" * 64)
    with pytest.raises(ManifestProblem, match="not 64 hex digits"):
        expected_from_manifest(manifest.to_json(), KEY + ".manifest.json", KEY)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_every_s3_checksum_is_found_full_object_or_composite():
    data = b"x" * 100
    response = {
        "ChecksumSHA256": _b64(hashlib.sha256(data).digest()),
        "ChecksumSHA1": _b64(hashlib.sha1(data).digest()),
        "ChecksumCRC32": _b64(digest_of("crc32", data)),
        "ChecksumCRC32C": _b64(digest_of("crc32c", data)),
        "ChecksumCRC64NVME": _b64(digest_of("crc64nvme", data)),
        "ETag": f'"{hashlib.md5(data).hexdigest()}"',
    }
    found = find_expectations(None, response)
    assert [e.source for e in found.expectations] == [
        "s3_sha256",
        "s3_sha1",
        "s3_crc64nvme",
        "s3_crc32c",
        "s3_crc32",
        "etag_md5",
    ]
    digests = StreamDigests({e.algorithm for e in found.expectations})
    digests.update(data)
    assert all(digests.digest(e.algorithm) == e.value for e in found.expectations)

    composite = find_expectations(
        None, {"ChecksumSHA256": f"{response['ChecksumSHA256']}-3", "ChecksumType": "COMPOSITE"}
    )
    assert [(e.source, e.algorithm, e.parts) for e in composite.expectations] == [
        ("s3_composite", "sha256", 3)
    ]
    assert find_expectations(None, {}).expectations == []


@pytest.mark.parametrize(
    "value",
    [
        "abc-2",
        "@@@=",
        _b64(b"x" * 31),
        _b64(b"x" * 32) + "-0",
        _b64(b"x" * 32) + "-x",
        _b64(b"x" * 32) + "-10001",
    ],
)
def test_malformed_s3_checksums_are_reported_not_guessed(value):
    found = find_expectations(None, {"ChecksumSHA256": value, "ChecksumType": "COMPOSITE"})
    assert found.expectations == [] and found.reasons == ["malformed_checksum"]
    assert len(found.notes) == 1 and "ChecksumSHA256" in found.notes[0]


def test_etag_is_an_md5_only_without_kms_or_customer_keys():
    md5 = hashlib.md5(b"x").hexdigest()
    assert [e.source for e in find_expectations(None, {"ETag": f'"{md5}"'}).expectations] == ["etag_md5"]
    multipart = find_expectations(None, {"ETag": f'"{md5}-12"'}).expectations
    assert [(e.source, e.parts) for e in multipart] == [("etag_multipart", 12)]
    kms = find_expectations(None, {"ETag": f'"{md5}"', "ServerSideEncryption": "aws:kms"})
    assert kms.expectations == [] and kms.reasons == ["etag_sse_kms"] and "SSE-KMS" in kms.notes[0]
    sse_c = find_expectations(None, {"ETag": f'"{md5}"', "SSECustomerAlgorithm": "AES256"})
    assert sse_c.expectations == [] and sse_c.reasons == ["etag_sse_c"]
    odd = find_expectations(None, {"ETag": '"not-an-md5"'})
    assert odd.expectations == [] and odd.reasons == ["malformed_checksum"]


def test_metadata_key_is_case_insensitive_and_a_bad_value_is_noted():
    digest = hashlib.sha256(b"x").hexdigest()
    assert find_expectations(None, {"Metadata": {"SHA256": digest}}).expectations[0].value.hex() == digest
    found = find_expectations(None, {"Metadata": {"sha256": "not-a-digest"}})
    assert found.expectations == [] and "not a SHA-256" in found.notes[0]


def test_trust_order_is_manifest_s3_composite_metadata_etag():
    a, b = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
    md5 = hashlib.md5(b"a").hexdigest()
    response = {
        "ChecksumSHA256": _b64(a) + "-2",
        "ChecksumCRC32": _b64(b"\x00" * 4),
        "Metadata": {"sha256": b.hex()},
        "ETag": f'"{md5}-2"',
    }
    manifest = expected_from_manifest(make_manifest(KEY, b"m").to_json(), KEY + ".manifest.json", KEY)
    order = [e.source for e in find_expectations(manifest, response).expectations]
    assert order == ["manifest", "s3_crc32", "s3_composite", "metadata", "etag_multipart"]


def test_part_digests_combine_as_s3_composite_checksums():
    data = bytes(range(256)) * 100
    sizes = [10_000, 10_000, 5_600]
    digests = StreamDigests({"sha256"}, {"sha256", "crc32", "md5"}, sizes)
    for start in range(0, len(data), 777):  # chunks that straddle part boundaries
        digests.update(data[start : start + 777])
    digests.finish()
    chunks = [data[:10_000], data[10_000:20_000], data[20_000:]]
    for algorithm in ("sha256", "crc32", "md5"):
        expected = digest_of(algorithm, b"".join(digest_of(algorithm, c) for c in chunks))
        assert digests.composite(algorithm) == (expected, 3)
    assert digests.digest("sha256") == hashlib.sha256(data).digest()


def test_shipped_config_loads_and_run_overrides_apply():
    config = load_config()
    assert config.prefixes == ("backups/", "uploads/") and config.cycle_days == 7
    narrowed = load_config(prefixes=["uploads/tenant-001/"], byte_budget=GIB)
    assert narrowed.prefixes == ("uploads/tenant-001/",) and narrowed.byte_budget == GIB
    assert CONFIG_PATH.exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("prefixes: []\n", "no prefixes"),
        ("prefixes: [uploads/, uploads/tenant-1/]\n", "lies inside"),
        ("byte_budget_gib: -1\n", "positive number"),
        ("cycle_days: 0\n", "cycle_days"),
        ("concurency: 4\n", "unknown settings"),
        ("concurrency: 500\n", "use more shards"),
        ("prefixes: {a: 1}\n", "list of key prefixes"),
        ("[1, 2]\n", "mapping"),
        ("prefixes: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_config_is_rejected_with_the_reason(tmp_path: Path, text, message):
    path = tmp_path / "checksum.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_config_file_is_named(tmp_path: Path):
    with pytest.raises(ConfigError, match="checksum config not found"):
        load_config(tmp_path / "absent.yaml")


def test_config_rejects_bad_numbers_directly():
    with pytest.raises(ConfigError, match="chunk_bytes"):
        ChecksumConfig(chunk_bytes=10)
    with pytest.raises(ConfigError, match="read_attempts"):
        ChecksumConfig(read_attempts=0)
