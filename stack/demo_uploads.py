"""Demo user uploads for the local stack, stored every way real S3 clients store objects.

Objects go under ``uploads/<tenant>/<site>/<file name>`` (tenant slugs and site ids as in
``stack/platform.py``). In turn, each is uploaded as one of :data:`KINDS`: with an S3 full-object
checksum of each algorithm (CRC32 is what boto3 sends by default), with only a ``sha256`` metadata entry,
or with only its ETag (no checksum sent). Each tenant also has one file encrypted with SSE-KMS and no
checksum (its ETag is no MD5: the one kind that stays unverifiable, few enough to keep ``uploads/``
above its verified-ratio floor). A few multipart uploads follow (composite SHA-256, full-object
CRC64NVME, ETag only), with parts of 5 MiB, S3's minimum. File names include spaces, unicode, ``%`` and
a 0-byte file, as real uploads do. Contents are pseudo-random from ``seed``, so a rerun writes the same
bytes. :func:`coverage_lines` is what the demo prints about the checksum run over them.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import random

FILE_NAMES = (
    "logo.png",
    "Invoice März 2026.pdf",
    "team photo (1).jpg",
    "100% growth.csv",
    "notes.txt",
    "empty.txt",
)
# kind -> put_object arguments beyond Body (None: sent by the client that adds no checksum of its own)
KINDS = {
    "crc32": {},
    "crc32c": {"ChecksumAlgorithm": "CRC32C"},
    "crc64nvme": {"ChecksumAlgorithm": "CRC64NVME"},
    "sha1": {"ChecksumAlgorithm": "SHA1"},
    "sha256": {"ChecksumAlgorithm": "SHA256"},
    "metadata": None,
    "etag": None,
}
SSE_KMS_NAME = "scan (encrypted).pdf"
# (kind, ChecksumAlgorithm, ChecksumType) of the multipart uploads, one each.
MULTIPART = (
    ("multipart_composite", "SHA256", "COMPOSITE"),
    ("multipart_crc64nvme", "CRC64NVME", "FULL_OBJECT"),
    ("multipart_etag", None, None),
)
PART_BYTES = 5 * 1024 * 1024


def demo_key(tenant: int, site: int, name: str) -> str:
    return f"uploads/tenant-{tenant:03d}/site-{site}/{name}"


def bare_client(s3_client):
    """A client like ``s3_client`` that sends no checksum unless asked (boto3 adds a CRC32 by default)."""
    import boto3
    from botocore.config import Config

    credentials = s3_client._request_signer._credentials.get_frozen_credentials()
    return boto3.client(
        "s3",
        endpoint_url=s3_client.meta.endpoint_url,
        region_name=s3_client.meta.region_name,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        config=Config(request_checksum_calculation="when_required"),
    )


def _put(s3, bare, bucket: str, key: str, body: bytes, kind: str, name: str) -> None:
    extra: dict = {"ContentType": mimetypes.guess_type(name)[0] or "application/octet-stream"}
    if KINDS.get(kind) is not None:
        s3.put_object(Bucket=bucket, Key=key, Body=body, **extra, **KINDS[kind])
        return
    if kind == "metadata":
        extra["Metadata"] = {"sha256": hashlib.sha256(body).hexdigest()}
    elif kind == "sse_kms":  # not in the rotation: one per tenant
        extra["ServerSideEncryption"] = "aws:kms"
    bare.put_object(Bucket=bucket, Key=key, Body=body, **extra)


def put_multipart(s3, bucket: str, key: str, body: bytes, algorithm: str | None, checksum_type: str | None):
    """A multipart upload of ``body`` in PART_BYTES parts, with S3 checksums of ``algorithm`` if given."""
    import zlib

    start = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    if checksum_type:
        start["ChecksumType"] = checksum_type
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **start)
    parts = []
    for number, offset in enumerate(range(0, len(body), PART_BYTES), start=1):
        answer = s3.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=body[offset : offset + PART_BYTES],
            **({"ChecksumAlgorithm": algorithm} if algorithm else {}),
        )
        part = {"PartNumber": number, "ETag": answer["ETag"]}
        part.update({k: v for k, v in answer.items() if k.startswith("Checksum") and k != "ChecksumType"})
        parts.append(part)
    finish: dict = {}
    if checksum_type == "FULL_OBJECT":
        if algorithm == "CRC64NVME":
            from awscrt.checksums import crc64nvme

            raw = crc64nvme(body).to_bytes(8, "big")
        else:
            raw = zlib.crc32(body).to_bytes(4, "big")
        finish = {f"Checksum{algorithm}": base64.b64encode(raw).decode(), "ChecksumType": "FULL_OBJECT"}
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}, **finish
    )


def seed_demo_uploads(
    s3_client,
    bucket: str,
    *,
    tenants: int = 6,
    sites_per_tenant: int = 2,
    max_bytes: int = 256 * 1024,
    seed: int = 42,
    multipart: bool = True,
) -> dict:
    """Upload the demo objects; return how many, their bytes, and how many of each kind."""
    rng = random.Random(seed)
    bare = bare_client(s3_client)
    kinds = tuple(KINDS)
    by_kind = {kind: 0 for kind in (*kinds, "sse_kms")}
    total_bytes = index = 0
    for tenant in range(1, tenants + 1):
        for k in range(sites_per_tenant):
            # stack.platform gives site g to tenant 1 + (g - 1) % tenants.
            site = tenant + k * tenants
            for name in FILE_NAMES:
                body = b"" if name == "empty.txt" else rng.randbytes(rng.randint(1, max_bytes))
                kind = kinds[index % len(kinds)]
                _put(s3_client, bare, bucket, demo_key(tenant, site, name), body, kind, name)
                by_kind[kind] += 1
                total_bytes += len(body)
                index += 1
        body = rng.randbytes(rng.randint(1, max_bytes))
        _put(s3_client, bare, bucket, demo_key(tenant, tenant, SSE_KMS_NAME), body, "sse_kms", SSE_KMS_NAME)
        by_kind["sse_kms"] += 1
        total_bytes += len(body)
        index += 1
    if multipart:
        for kind, algorithm, checksum_type in MULTIPART:
            body = rng.randbytes(PART_BYTES + rng.randint(1, 64 * 1024))
            client = s3_client if algorithm else bare
            put_multipart(client, bucket, demo_key(1, 1, f"{kind}.bin"), body, algorithm, checksum_type)
            by_kind[kind] = 1
            total_bytes += len(body)
            index += 1
    return {"objects": index, "bytes": total_bytes, "by_kind": by_kind}


def coverage_lines(conn) -> list[str]:
    """What the last checksum run verified, by source, and why the rest was not (for the demo's output)."""
    row = conn.execute(
        """SELECT summary FROM reliability.runs WHERE job = 'checksum_validation'
           ORDER BY finished_at DESC LIMIT 1"""
    ).fetchone()
    if not row or not row[0]:
        return []
    summary = row[0]
    lines = [f"  checksum coverage: {summary.get('verified_ratio', 0):.1%} of the objects read verified"]
    for source, n in sorted(((summary.get("by_source") or {}).get("ok") or {}).items()):
        lines.append(f"    verified by {source:<16} {n:>5}")
    for reason, n in sorted((summary.get("unverifiable_reasons") or {}).items()):
        lines.append(f"    unverifiable: {reason:<15} {n:>5}")
    for outcome in ("mismatch", "size_mismatch", "conflict"):
        if (summary.get("counts") or {}).get(outcome):
            lines.append(f"    {outcome}: {summary['counts'][outcome]}")
    return lines
