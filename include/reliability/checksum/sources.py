"""Where an object's expected SHA-256 comes from, in order of trust.

1. ``manifest``: the backup manifest next to a dump (``<key>.manifest.json``), written by the backup job
   from the bytes it streamed to S3; it also records the size, so a truncated dump is ``size_mismatch``.
2. ``s3_checksum``: S3's own full-object SHA-256 (``ChecksumSHA256``, asked for with
   ``ChecksumMode=ENABLED`` on the same GET that reads the body). A multipart upload with SHA-256 gets a
   *composite* checksum instead (``<base64>-<parts>``, ``ChecksumType=COMPOSITE``): the SHA-256 of the
   parts' SHA-256s, which cannot be recomputed from the bytes without the part boundaries. It is
   skipped (with a note) rather than guessed, and the next source decides. moto 5.2.5 returns no
   ``ChecksumType`` for single-part uploads, so a value without the ``-N`` suffix counts as full-object.
3. ``metadata``: a ``sha256`` user-metadata entry (``x-amz-meta-sha256``), hex or base64.

With none of them the object is ``unverifiable``: it is still read to the end, which proves it readable.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reliability.backups.manifest import MANIFEST_SUFFIX, Manifest, ManifestError

MANIFEST = "manifest"
S3_CHECKSUM = "s3_checksum"
METADATA = "metadata"
SOURCES = (MANIFEST, S3_CHECKSUM, METADATA)
METADATA_KEY = "sha256"
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class ManifestProblem(ValueError):
    """A manifest that cannot serve as the expected value (unreadable, malformed, about another object)."""


@dataclass(frozen=True)
class Expected:
    sha256: str  # lowercase hex
    source: str
    size: int | None = None  # known only from a manifest


@dataclass(frozen=True)
class Resolution:
    expected: Expected | None
    notes: tuple[str, ...] = ()  # why a source was passed over, for the object's record


def manifest_key_for(key: str) -> str:
    return key + MANIFEST_SUFFIX


def is_manifest(key: str) -> bool:
    return key.endswith(MANIFEST_SUFFIX)


def object_key_of_manifest(manifest_key: str) -> str:
    return manifest_key[: -len(MANIFEST_SUFFIX)]


def expected_from_manifest(text: bytes | str, manifest_key: str, object_key: str) -> Expected:
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
    return Expected(sha256=manifest.sha256.lower(), source=MANIFEST, size=manifest.size_bytes)


def digest_to_hex(value: str) -> str | None:
    """A SHA-256 given as 64 hex digits or as base64 of its 32 bytes, as lowercase hex; None if neither."""
    value = value.strip()
    if _HEX.match(value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def expected_from_s3_checksum(response: Mapping[str, Any]) -> tuple[Expected | None, str | None]:
    """S3's full-object SHA-256 from a GetObject response, or a note saying why it cannot be used."""
    value = response.get("ChecksumSHA256")
    if not value:
        return None, None
    checksum_type = response.get("ChecksumType")
    base, _, parts = value.partition("-")
    if checksum_type == "COMPOSITE" or parts:
        return None, (
            f"S3 SHA-256 is a composite of {parts or 'several'} part checksums (multipart upload), "
            "not a whole-object digest"
        )
    hex_digest = digest_to_hex(base)
    if hex_digest is None:
        return None, f"S3 returned ChecksumSHA256 {value!r}, which is not a base64 SHA-256"
    return Expected(sha256=hex_digest, source=S3_CHECKSUM), None


def expected_from_metadata(metadata: Mapping[str, str] | None) -> tuple[Expected | None, str | None]:
    for name, value in (metadata or {}).items():
        if name.lower() == METADATA_KEY:
            hex_digest = digest_to_hex(str(value))
            if hex_digest is None:
                return None, f"metadata sha256 {str(value)[:80]!r} is not a SHA-256 (64 hex digits or base64)"
            return Expected(sha256=hex_digest, source=METADATA), None
    return None, None


def resolve(
    manifest: Expected | None, response: Mapping[str, Any], notes: tuple[str, ...] = ()
) -> Resolution:
    """The first usable expected value, in the order of the module docstring."""
    if manifest is not None:
        return Resolution(manifest, notes)
    collected = list(notes)
    for finder in (
        lambda: expected_from_s3_checksum(response),
        lambda: expected_from_metadata(response.get("Metadata")),
    ):
        expected, note = finder()
        if note:
            collected.append(note)
        if expected is not None:
            return Resolution(expected, tuple(collected))
    return Resolution(None, tuple(collected))
