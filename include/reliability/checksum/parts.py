"""Part boundaries of a multipart object, needed for its composite checksum and its multipart ETag.

First ``GetObjectAttributes`` with ``ObjectParts`` (one call per 1,000 parts), for objects uploaded with
an additional checksum: S3 lists the parts of no other object, so for those (multipart ETag only) it is
not asked. Else, or when it is denied or lists no parts, ``HeadObject`` with ``PartNumber=1``: the part
count and the first part's size; SDKs cut every part but the last to the same size, so the rest follow
from the object's size (one call). That assumption is checked by :func:`exact_head_sizes` (one
``HeadObject`` per part) before a disagreement that depends on it becomes a verdict.

Part sizes that do not add up to the object's size are a :class:`PartsProblem`: an error for that
object, never a verdict computed on wrong boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

ATTRIBUTES, HEAD, HEAD_UNIFORM = "attributes", "head", "head_uniform"
_FALLBACK_CODES = {
    "AccessDenied",
    "NotImplemented",
    "MethodNotAllowed",
    "InvalidRequest",
    "InvalidArgument",
    "UnsupportedOperation",
    "InvalidPartNumber",
    "InvalidRange",
    "400",
    "416",
    "501",
    "403",
    "405",
}
_PAGE = 1000


class PartsProblem(Exception):
    """The part sizes S3 gave cannot be the object's (their sum, their count): no verdict on them."""


class PartsUnavailable(Exception):
    """Neither GetObjectAttributes nor HeadObject gave the part sizes."""


class _NotListed(Exception):
    pass


class VersionChanged(Exception):
    """The object was replaced between the GET and the part lookup: read it again."""


@dataclass(frozen=True)
class Parts:
    sizes: tuple[int, ...]
    method: str  # attributes | head | head_uniform (sizes after the first assumed equal)
    requests: int

    @property
    def assumed(self) -> bool:
        return self.method == HEAD_UNIFORM


def _code(exc: Exception) -> str | None:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return None
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = exc.response.get("Error", {}).get("Code")
    return code if code in _FALLBACK_CODES else (str(status) if str(status) in _FALLBACK_CODES else None)


def _check(sizes: list[int], object_size: int, method: str, expected_count: int | None) -> None:
    if not sizes or any(s < 0 for s in sizes):
        raise PartsProblem(f"{method} gave part sizes {sizes[:5]} ...: not byte counts")
    if sum(sizes) != object_size:
        raise PartsProblem(
            f"{method} gave {len(sizes)} part sizes adding up to {sum(sizes):,} bytes, but the object has "
            f"{object_size:,} bytes: no verdict on part checksums"
        )
    if expected_count and len(sizes) != expected_count:
        raise PartsProblem(
            f"{method} gave {len(sizes)} parts, but the object's checksums name {expected_count}"
        )


def from_attributes(client, bucket: str, key: str, etag: str) -> tuple[list[int] | None, int]:
    """Part sizes from GetObjectAttributes (None when S3 does not list them), and the calls made."""
    sizes: list[int] = []
    marker, calls = 0, 0
    while True:
        calls += 1
        response = client.get_object_attributes(
            Bucket=bucket,
            Key=key,
            ObjectAttributes=["ObjectParts", "ETag"],
            MaxParts=_PAGE,
            PartNumberMarker=marker,
        )
        if etag and response.get("ETag") and response["ETag"].strip('"') != etag.strip('"'):
            raise VersionChanged(f"{key} changed while it was read")
        listing = response.get("ObjectParts") or {}
        parts = listing.get("Parts") or []
        if not parts:
            return None, calls
        expected_number = len(sizes) + 1
        for part in parts:
            if int(part.get("PartNumber", 0)) != expected_number:
                raise PartsProblem(
                    f"GetObjectAttributes listed part {part.get('PartNumber')} where {expected_number} was due"
                )
            sizes.append(int(part["Size"]))
            expected_number += 1
        if not listing.get("IsTruncated"):
            return sizes, calls
        marker = int(listing.get("NextPartNumberMarker") or len(sizes))


def from_head(client, bucket: str, key: str, object_size: int) -> tuple[list[int], int]:
    """Part sizes from HeadObject ``PartNumber=1``, the later parts assumed as large as the first but the last."""
    first = client.head_object(Bucket=bucket, Key=key, PartNumber=1)
    count = int(first.get("PartsCount") or 0)
    size = int(first["ContentLength"])
    if count < 1:
        raise PartsUnavailable(f"HeadObject of {key} part 1 gave no part count")
    last = object_size - size * (count - 1)
    if count > 1 and not 0 < last <= size:
        # Not SDK-style equal parts: ask for each one.
        sizes, calls = exact_head_sizes(client, bucket, key, count, first_size=size)
        return sizes, calls + 1
    return [size] * (count - 1) + [last], 1


def exact_head_sizes(
    client, bucket: str, key: str, count: int, first_size: int | None = None
) -> tuple[list[int], int]:
    """Every part's size, one HeadObject each (part 1's size may be known already), and the calls made."""
    sizes, calls = [], 0
    for number in range(1, count + 1):
        if number == 1 and first_size is not None:
            sizes.append(first_size)
            continue
        sizes.append(int(client.head_object(Bucket=bucket, Key=key, PartNumber=number)["ContentLength"]))
        calls += 1
    return sizes, calls


def part_sizes(
    client,
    bucket: str,
    key: str,
    *,
    etag: str,
    object_size: int,
    count: int | None,
    listed_by_s3: bool = True,
) -> Parts:
    """The object's part sizes; raises PartsProblem, PartsUnavailable or VersionChanged (see the module).

    ``listed_by_s3``: the object has an additional checksum, so GetObjectAttributes may list its parts.
    """
    calls = 0
    try:
        if not listed_by_s3:
            raise _NotListed()
        sizes, calls = from_attributes(client, bucket, key, etag)
        if sizes is not None:
            _check(sizes, object_size, "GetObjectAttributes", count)
            return Parts(tuple(sizes), ATTRIBUTES, calls)
    except (VersionChanged, PartsProblem):
        raise
    except _NotListed:
        pass
    except Exception as exc:
        if _code(exc) is None:
            raise
        calls += 1  # denied or unsupported: fall back to HeadObject
    try:
        sizes, head_calls = from_head(client, bucket, key, object_size)
    except Exception as exc:
        if _code(exc) is None:
            raise
        raise PartsUnavailable(
            f"neither GetObjectAttributes nor HeadObject gave the part sizes of {key}"
        ) from None
    uniform = head_calls == 1 and len(sizes) > 2
    _check(sizes, object_size, "HeadObject", count)
    return Parts(tuple(sizes), HEAD_UNIFORM if uniform else HEAD, calls + head_calls)
