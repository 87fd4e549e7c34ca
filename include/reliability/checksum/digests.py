"""Every checksum algorithm S3 knows, computed on one stream of bytes in one pass, with part boundaries.

``sha256``, ``sha1`` and ``md5`` come from :mod:`hashlib`, ``crc32`` from :mod:`zlib`, ``crc32c`` and
``crc64nvme`` from ``awscrt.checksums`` (what botocore itself uses for them). All of them release the GIL
on large buffers, so several objects hash at once on several cores.

A multipart object's composite checksum (and its ETag) is a digest of its parts' digests, so the stream
is also cut at the part boundaries: each part gets its own digest per algorithm that needs one, and
:meth:`StreamDigests.composite` combines them as S3 does: the algorithm over the concatenated raw part
digests (big-endian bytes for the CRCs). Memory is one digest state per algorithm, plus the finished raw
part digests (at most 10,000 x 32 bytes), whatever the object's size.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence

ALGORITHMS = ("sha256", "sha1", "crc32", "crc32c", "crc64nvme", "md5")
_CRC_BYTES = {"crc32": 4, "crc32c": 4, "crc64nvme": 8}


class _Crc:
    """A running CRC with the ``update``/``digest`` interface of a :mod:`hashlib` object."""

    def __init__(self, name: str):
        if name == "crc32":
            self._fn = zlib.crc32
        else:
            from awscrt import checksums

            self._fn = getattr(checksums, name)
        self.name, self._value = name, 0

    def update(self, data) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(_CRC_BYTES[self.name], "big")


def new_digest(algorithm: str):
    """A fresh digest object for one of :data:`ALGORITHMS`."""
    if algorithm in _CRC_BYTES:
        return _Crc(algorithm)
    if algorithm in ("sha256", "sha1", "md5"):
        return hashlib.new(algorithm)
    raise ValueError(f"unknown checksum algorithm {algorithm!r}")


def digest_of(algorithm: str, data: bytes) -> bytes:
    d = new_digest(algorithm)
    d.update(data)
    return d.digest()


def digest_length(algorithm: str) -> int:
    return _CRC_BYTES.get(algorithm) or hashlib.new(algorithm).digest_size


class StreamDigests:
    """Feed an object's bytes in order; get whole-object digests and per-part (composite) digests.

    ``whole``: algorithms over the whole object. ``per_part``: algorithms whose digest is needed for each
    part, given ``part_sizes`` (in order; their sum must be the object's size).
    """

    def __init__(
        self,
        whole: Iterable[str],
        per_part: Iterable[str] = (),
        part_sizes: Sequence[int] | None = None,
    ):
        self.whole = {a: new_digest(a) for a in dict.fromkeys(whole)}
        self.per_part_algorithms = tuple(dict.fromkeys(per_part)) if part_sizes else ()
        self.part_sizes = list(part_sizes or ())
        self.part_digests: dict[str, list[bytes]] = {a: [] for a in self.per_part_algorithms}
        self._part_index = 0
        self._part_left = self.part_sizes[0] if self.part_sizes else 0
        self._part = {a: new_digest(a) for a in self.per_part_algorithms}
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        for digest in self.whole.values():
            digest.update(chunk)
        if not self.per_part_algorithms:
            return
        view = memoryview(chunk)
        while view:
            if self._part_index >= len(self.part_sizes):
                # More bytes than the parts account for: the sizes were wrong; the size check reports it.
                return
            take = min(self._part_left, len(view))
            for digest in self._part.values():
                digest.update(view[:take])
            view, self._part_left = view[take:], self._part_left - take
            if self._part_left == 0:
                self._close_part()

    def _close_part(self) -> None:
        for algorithm, digest in self._part.items():
            self.part_digests[algorithm].append(digest.digest())
        self._part_index += 1
        if self._part_index < len(self.part_sizes):
            self._part_left = self.part_sizes[self._part_index]
            self._part = {a: new_digest(a) for a in self.per_part_algorithms}

    def finish(self) -> None:
        """Close the parts of zero bytes at the end (a part can be empty only when the object is)."""
        while self.per_part_algorithms and self._part_index < len(self.part_sizes) and self._part_left == 0:
            self._close_part()

    def digest(self, algorithm: str) -> bytes:
        return self.whole[algorithm].digest()

    def composite(self, algorithm: str) -> tuple[bytes, int] | None:
        """(digest of the concatenated part digests, part count), or None when not all parts were seen."""
        parts = self.part_digests.get(algorithm)
        if parts is None or len(parts) != len(self.part_sizes):
            return None
        return digest_of(algorithm, b"".join(parts)), len(parts)
