"""Expected-checksum resolution and configuration loading, without any server."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reliability.checksum.config import CONFIG_PATH, GIB, ChecksumConfig, ConfigError, load_config
from reliability.checksum.sources import (
    ManifestProblem,
    digest_to_hex,
    expected_from_manifest,
    expected_from_metadata,
    expected_from_s3_checksum,
    resolve,
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
    assert (expected.sha256, expected.size, expected.source) == (
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


def test_s3_full_object_checksum_is_used_and_composite_is_not():
    digest = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    assert expected_from_s3_checksum({"ChecksumSHA256": digest})[0].sha256 == hashlib.sha256(b"x").hexdigest()
    assert expected_from_s3_checksum({"ChecksumSHA256": digest, "ChecksumType": "FULL_OBJECT"})[0] is not None
    expected, note = expected_from_s3_checksum({"ChecksumSHA256": f"{digest}-3", "ChecksumType": "COMPOSITE"})
    assert expected is None and "composite of 3 part checksums" in note
    assert expected_from_s3_checksum({}) == (None, None)


def test_metadata_key_is_case_insensitive_and_a_bad_value_is_noted():
    digest = hashlib.sha256(b"x").hexdigest()
    assert expected_from_metadata({"SHA256": digest})[0].sha256 == digest
    expected, note = expected_from_metadata({"sha256": "not-a-digest"})
    assert expected is None and "not a SHA-256" in note


def test_resolution_order_is_manifest_then_s3_then_metadata():
    a, b = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
    response = {"ChecksumSHA256": base64.b64encode(a).decode(), "Metadata": {"sha256": b.hex()}}
    manifest = expected_from_manifest(make_manifest(KEY, b"m").to_json(), KEY + ".manifest.json", KEY)
    assert resolve(manifest, response).expected.source == "manifest"
    assert resolve(None, response).expected.sha256 == a.hex()
    assert resolve(None, {"Metadata": {"sha256": b.hex()}}).expected.sha256 == b.hex()
    composite = resolve(None, {"ChecksumSHA256": "abc-2", "Metadata": {}})
    assert composite.expected is None and len(composite.notes) == 1


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
