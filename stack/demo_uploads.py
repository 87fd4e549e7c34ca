"""Demo user uploads for the local stack, so every expected-checksum path runs in the demo.

Objects go under ``uploads/<tenant>/<site>/<file name>`` (tenant slugs and site ids as in
``stack/platform.py``). In turn, one is uploaded with an S3 SHA-256 checksum, the next with a ``sha256``
metadata entry, the next with neither (unverifiable). File names include spaces, unicode, ``%`` and a
0-byte file, as real uploads do. Contents are pseudo-random from ``seed``, so a rerun writes the same bytes.
"""

from __future__ import annotations

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
SOURCES = ("s3_checksum", "metadata", "none")


def demo_key(tenant: int, site: int, name: str) -> str:
    return f"uploads/tenant-{tenant:03d}/site-{site}/{name}"


def seed_demo_uploads(
    s3_client,
    bucket: str,
    *,
    tenants: int = 6,
    sites_per_tenant: int = 2,
    max_bytes: int = 256 * 1024,
    seed: int = 42,
) -> dict:
    """Upload the demo objects; return how many, their bytes, and how many per checksum source."""
    rng = random.Random(seed)
    by_source = {source: 0 for source in SOURCES}
    total_bytes = index = 0
    for tenant in range(1, tenants + 1):
        for k in range(sites_per_tenant):
            # stack.platform gives site g to tenant 1 + (g - 1) % tenants.
            site = tenant + k * tenants
            for name in FILE_NAMES:
                body = b"" if name == "empty.txt" else rng.randbytes(rng.randint(1, max_bytes))
                source = SOURCES[index % len(SOURCES)]
                extra: dict = {"ContentType": mimetypes.guess_type(name)[0] or "application/octet-stream"}
                if source == "s3_checksum":
                    extra["ChecksumAlgorithm"] = "SHA256"
                elif source == "metadata":
                    extra["Metadata"] = {"sha256": hashlib.sha256(body).hexdigest()}
                s3_client.put_object(Bucket=bucket, Key=demo_key(tenant, site, name), Body=body, **extra)
                by_source[source] += 1
                total_bytes += len(body)
                index += 1
    return {"objects": index, "bytes": total_bytes, "by_source": by_source}
