"""Every integrity source S3 and the backups keep for an object, in order of trust.

1. ``manifest``: the backup manifest next to a dump (``<key>.manifest.json``): SHA-256 and size of the
   bytes the backup job streamed to S3.
2. S3 full-object checksums (``ChecksumMode=ENABLED`` on the same GET that reads the body):
   ``s3_sha256``, ``s3_sha1``, ``s3_crc64nvme``, ``s3_crc32c``, ``s3_crc32``. AWS SDKs send CRC32 with
   every PutObject by default, S3 adds CRC64NVME to objects stored without one, and a multipart upload
   with ``ChecksumType=FULL_OBJECT`` has a CRC of the whole object too.
3. ``s3_composite``: a multipart upload's composite checksum (``<base64>-<parts>``, ``ChecksumType``
   COMPOSITE): the algorithm over the concatenated raw part checksums. Needs the part boundaries.
4. ``metadata``: a ``sha256`` user-metadata entry (``x-amz-meta-sha256``), hex or base64.
5. ``etag_md5``: a single-part upload's ETag is the MD5 of the object, except when the object is
   encrypted with SSE-KMS or SSE-C (then it is not an MD5 at all, and the object says so).
6. ``etag_multipart``: a multipart upload's ETag, the MD5 of the concatenated part MD5s plus ``-<parts>``.

Every source an object has is checked on the same read (:mod:`.verdict` judges them together). A value
that is malformed is reported in the object's notes, never guessed at.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reliability.backups.manifest import MANIFEST_SUFFIX, Manifest, ManifestError
from reliability.checksum.digests import digest_length

MANIFEST = "manifest"
S3_FULL = {  # response field -> (source, algorithm), in order of trust
    "ChecksumSHA256": ("s3_sha256", "sha256"),
    "ChecksumSHA1": ("s3_sha1", "sha1"),
    "ChecksumCRC64NVME": ("s3_crc64nvme", "crc64nvme"),
    "ChecksumCRC32C": ("s3_crc32c", "crc32c"),
    "ChecksumCRC32": ("s3_crc32", "crc32"),
}
S3_COMPOSITE = "s3_composite"
METADATA = "metadata"
ETAG_MD5 = "etag_md5"
ETAG_MULTIPART = "etag_multipart"
CANARY = "canary"  # the deliberately wrong expectation of the verifier canary (see .canary)
SOURCES = (MANIFEST, *(s for s, _ in S3_FULL.values()), S3_COMPOSITE, METADATA, ETAG_MD5, ETAG_MULTIPART)
TRUST = {source: rank for rank, source in enumerate((CANARY, *SOURCES))}
METADATA_KEY = "sha256"
MAX_PARTS = 10_000

# Why an object that was read could not be verified (the ``unverifiable`` verdict's reason).
NO_INTEGRITY_DATA = "no_integrity_data"
ETAG_SSE_KMS = "etag_sse_kms"
ETAG_SSE_C = "etag_sse_c"
MALFORMED = "malformed_checksum"
PARTS_UNKNOWN = "part_sizes_unknown"
REASONS = (NO_INTEGRITY_DATA, ETAG_SSE_KMS, ETAG_SSE_C, MALFORMED, PARTS_UNKNOWN)

_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_ETAG = re.compile(r"^([0-9a-f]{32})(?:-(\d+))?$")


class ManifestProblem(ValueError):
    """A manifest that cannot serve as the expected value (unreadable, malformed, about another object)."""


@dataclass(frozen=True)
class Expectation:
    """One source's claim about the object: ``algorithm`` over the bytes (or over the parts) is ``value``."""

    source: str
    algorithm: str
    value: bytes  # raw digest
    parts: int | None = None  # composite or multipart ETag: over this many parts (0: count not given)
    size: int | None = None  # known only from a manifest

    @property
    def per_part(self) -> bool:
        return self.parts is not None

    @property
    def label(self) -> str:
        return f"{self.source} ({self.algorithm})" if self.source == S3_COMPOSITE else self.source


@dataclass
class Found:
    """The expectations of one object, and what was passed over (notes) and why (reasons)."""

    expectations: list[Expectation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def skip(self, note: str, reason: str | None = None) -> None:
        self.notes.append(note)
        if reason and reason not in self.reasons:
            self.reasons.append(reason)


def manifest_key_for(key: str) -> str:
    return key + MANIFEST_SUFFIX


def is_manifest(key: str) -> bool:
    return key.endswith(MANIFEST_SUFFIX)


def object_key_of_manifest(manifest_key: str) -> str:
    return manifest_key[: -len(MANIFEST_SUFFIX)]


def expected_from_manifest(text: bytes | str, manifest_key: str, object_key: str) -> Expectation:
    try:
        manifest = Manifest.from_json(text, source=manifest_key)
    except ManifestError as exc:
        raise ManifestProblem(str(exc)) from None
    named = manifest.dump_key
    if named.startswith("s3://"):
        named = named[len("s3://") :].partition("/")[2]
    if named != object_key:
        raise ManifestProblem(
            f"{manifest_key} describes {manifest.dump_key!r}, not the object next to it ({object_key!r})"
        )
    if not _HEX.match(manifest.sha256):
        raise ManifestProblem(f"{manifest_key} has sha256 {manifest.sha256!r}, which is not 64 hex digits")
    if not isinstance(manifest.size_bytes, int) or manifest.size_bytes < 0:
        raise ManifestProblem(f"{manifest_key} has size_bytes {manifest.size_bytes!r}, not a byte count")
    return Expectation(MANIFEST, "sha256", bytes.fromhex(manifest.sha256), size=manifest.size_bytes)


def digest_to_hex(value: str) -> str | None:
    """A SHA-256 given as 64 hex digits or as base64 of its 32 bytes, as lowercase hex; None if neither."""
    raw = _decode(value.strip(), 32, allow_hex=True)
    return raw.hex() if raw is not None else None


def _decode(value: str, length: int, *, allow_hex: bool = False) -> bytes | None:
    if allow_hex and len(value) == 2 * length and re.fullmatch(r"[0-9a-fA-F]+", value):
        return bytes.fromhex(value)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == length else None


def _s3_checksums(response: Mapping[str, Any], found: Found) -> None:
    checksum_type = str(response.get("ChecksumType") or "").upper()
    for field_name, (source, algorithm) in S3_FULL.items():
        value = response.get(field_name)
        if not value:
            continue
        base, dash, count = str(value).partition("-")
        raw = _decode(base, digest_length(algorithm))
        if raw is None:
            found.skip(f"S3 {field_name} {str(value)[:80]!r} is not a base64 {algorithm} checksum", MALFORMED)
            continue
        if not dash and checksum_type != "COMPOSITE":
            found.expectations.append(Expectation(source, algorithm, raw))
            continue
        if dash and not (count.isdigit() and 1 <= int(count) <= MAX_PARTS):
            found.skip(
                f"S3 composite {field_name} {str(value)[:80]!r} does not end in a part count 1..{MAX_PARTS}",
                MALFORMED,
            )
            continue
        found.expectations.append(Expectation(S3_COMPOSITE, algorithm, raw, parts=int(count) if dash else 0))


def _metadata(metadata: Mapping[str, str] | None, found: Found) -> None:
    for name, value in (metadata or {}).items():
        if name.lower() == METADATA_KEY:
            hex_digest = digest_to_hex(str(value))
            if hex_digest is None:
                found.skip(
                    f"metadata sha256 {str(value)[:80]!r} is not a SHA-256 (64 hex digits or base64)",
                    MALFORMED,
                )
            else:
                found.expectations.append(Expectation(METADATA, "sha256", bytes.fromhex(hex_digest)))
            return


def _etag(response: Mapping[str, Any], found: Found) -> None:
    etag = str(response.get("ETag") or "").strip('"').lower()
    if not etag:
        return
    encryption = str(response.get("ServerSideEncryption") or "")
    if encryption.startswith("aws:kms"):
        found.skip(
            f"the ETag is not an MD5: the object is encrypted with SSE-KMS ({encryption})", ETAG_SSE_KMS
        )
        return
    if response.get("SSECustomerAlgorithm"):
        found.skip("the ETag is not an MD5: the object is encrypted with SSE-C", ETAG_SSE_C)
        return
    match = _ETAG.match(etag)
    if match is None:
        found.skip(f"ETag {etag[:80]!r} is neither an MD5 nor a multipart ETag", MALFORMED)
        return
    digest, count = match.groups()
    if count is None:
        found.expectations.append(Expectation(ETAG_MD5, "md5", bytes.fromhex(digest)))
    elif 1 <= int(count) <= MAX_PARTS:
        found.expectations.append(Expectation(ETAG_MULTIPART, "md5", bytes.fromhex(digest), parts=int(count)))
    else:
        found.skip(f"multipart ETag {etag[:80]!r} has a part count outside 1..{MAX_PARTS}", MALFORMED)


def find_expectations(manifest: Expectation | None, response: Mapping[str, Any]) -> Found:
    """Every expectation of the object read with ``response`` (a GetObject answer), most trusted first."""
    found = Found()
    if manifest is not None:
        found.expectations.append(manifest)
    _s3_checksums(response, found)
    _metadata(response.get("Metadata"), found)
    _etag(response, found)
    found.expectations.sort(key=lambda e: TRUST[e.source])
    return found


def is_multipart_etag(etag: str | None) -> bool:
    return bool(etag) and "-" in str(etag)
