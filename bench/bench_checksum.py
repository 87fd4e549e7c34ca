"""Benchmark: checksum validation throughput on a local S3 server, against baselines from the same run.

First the digests alone, in memory, on the same bytes: SHA-256 + CRC64NVME + MD5 in one pass (what a
typical object costs: a checksum, its MD5 ETag and the SHA-256 fingerprint) against ``hashlib.sha256``
alone, and CRC64NVME alone against SHA-256 (target: at least 4x faster).

Then puts a little over 1 GiB in many objects of mixed sizes on a moto S3 server, stored as S3 clients
store them (in turn: an S3 SHA-256 checksum, boto3's default CRC32, a CRC64NVME, a ``sha256`` metadata
entry beside the default CRC32; every one with its MD5 ETag) and verifies all of them three ways:

* limit  -- ``hashlib.sha256`` over the same bytes from a local file (page cache): what hashing alone costs
            on this machine, no network, no server;
* naive  -- a sequential loop: ``get_object``, ``Body.read()``, then hash (botocore's own checksum
            validation switched off, so it hashes each byte once, as the library does);
* library -- :func:`reliability.checksum.hashing.check_objects` (concurrent streaming re-hash).

Prints bytes/s of each, the ratios library/naive (target >= 1.5) and library/limit, and the requests the
library sent (counted with botocore's ``before-send`` hook): one GET per object, no HEAD. Last, a few
multipart objects (composite SHA-256, full-object CRC64NVME, ETag only) are checked through the test
suite's proxy, which lists ``ObjectParts`` as S3 does (moto 5.2.5 does not): requests per object, target
1 GET + at most 1 metadata call.

    python bench/bench_checksum.py [--total-mib 1100] [--concurrency N] [--chunk-kib K] [--rounds 3] [--sweep]

It needs no Airflow and no PostgreSQL; it takes about two minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from reliability.checksum.config import KIB, MIB, load_config  # noqa: E402 (after the sys.path line)
from reliability.checksum.digests import StreamDigests, digest_of  # noqa: E402
from reliability.checksum.hashing import OK, ObjectToCheck, check_objects  # noqa: E402
from reliability.checksum.sources import find_expectations  # noqa: E402
from stack.processes import free_port, stop_process  # noqa: E402
from stack.services import start_moto  # noqa: E402

# Object sizes (bytes) and their share of the objects: many small uploads, some mid-sized, a few dumps.
SIZE_MIX = ((64 * KIB, 0.55), (1 * MIB, 0.30), (8 * MIB, 0.12), (64 * MIB, 0.03))


def object_sizes(total: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    sizes, weights = zip(*SIZE_MIX)
    out: list[int] = []
    while sum(out) < total:
        base = rng.choices(sizes, weights)[0]
        out.append(base + rng.randint(0, base // 4))
    return out


def client_for(url: str, *, sdk_validation: bool, pool: int):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(
            max_pool_connections=pool,
            retries={"mode": "standard"},
            response_checksum_validation="when_supported" if sdk_validation else "when_required",
        ),
    )


def upload(client, bucket: str, sizes: list[int], local: Path, seed: int) -> list[tuple[str, int, str]]:
    """Write the objects to S3 and, concatenated, to ``local``; return (key, size, sha256)."""
    rng = random.Random(seed)
    objects, jobs = [], []
    with open(local, "wb") as f, ThreadPoolExecutor(4) as pool:
        for i, size in enumerate(sizes):
            data = rng.randbytes(size)
            f.write(data)
            digest = hashlib.sha256(data).hexdigest()
            key = f"uploads/tenant-{i % 60:03d}/site-{i % 150}/object {i:05d}.bin"
            extra = (
                {"ChecksumAlgorithm": "SHA256"},
                {},
                {"ChecksumAlgorithm": "CRC64NVME"},
                {"Metadata": {"sha256": digest}},
            )[i % 4]
            jobs.append(pool.submit(client.put_object, Bucket=bucket, Key=key, Body=data, **extra))
            objects.append((key, size, digest))
            if len(jobs) >= 16:
                [j.result() for j in jobs]
                jobs = []
        [j.result() for j in jobs]
    return objects


def hash_local_file(local: Path, objects, chunk: int) -> float:
    started = time.perf_counter()
    with open(local, "rb", buffering=0) as f:
        for _, size, digest in objects:
            h, left = hashlib.sha256(), size
            while left:
                block = f.read(min(chunk, left))
                h.update(block)
                left -= len(block)
            assert h.hexdigest() == digest
    return time.perf_counter() - started


def naive_loop(client, bucket: str, objects, *, every_source: bool = True) -> float:
    """Sequential download-then-hash. ``every_source``: the same checks as the library (every digest the
    object's sources need, one after the other on the downloaded bytes); else SHA-256 alone (the old baseline)."""
    started = time.perf_counter()
    for key, _, digest in objects:
        response = client.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        body = response["Body"].read()
        assert hashlib.sha256(body).hexdigest() == digest
        if every_source:
            found = find_expectations(None, response)
            for expectation in found.expectations:
                assert digest_of(expectation.algorithm, body) == expectation.value
    return time.perf_counter() - started


def library(client, bucket: str, objects, config) -> tuple[float, Counter, Counter]:
    requests: Counter = Counter()

    def count(event_name: str, request, **_):
        requests[(event_name.rsplit(".", 1)[-1], request.method)] += 1

    client.meta.events.register("before-send.s3", count)
    items = [ObjectToCheck(key, size) for key, size, _ in objects]
    started = time.perf_counter()
    outcomes = Counter(r.outcome for r in check_objects(client, bucket, items, config))
    elapsed = time.perf_counter() - started
    client.meta.events.unregister("before-send.s3", count)
    return elapsed, outcomes, requests


def digest_ratios(mib: int = 256, rounds: int = 3) -> tuple[float, float]:
    """(one-pass SHA-256 + CRC64NVME + MD5 time / SHA-256 time, SHA-256 time / CRC64NVME time), in memory."""
    data = os.urandom(mib * MIB)
    view = memoryview(data)

    def timed(algorithms) -> float:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            digests = StreamDigests(algorithms)
            for offset in range(0, len(data), MIB):
                digests.update(view[offset : offset + MIB])
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    sha = statistics.median(
        [_timed_hashlib(data) for _ in range(rounds)]
    )  # hashlib.sha256 alone, one call on the whole buffer
    multi, crc = timed(("sha256", "crc64nvme", "md5")), timed(("crc64nvme",))
    print(
        f"digests over {mib} MiB in memory: sha256 alone {mib / sha:,.0f} MiB/s, "
        f"sha256+crc64nvme+md5 one pass {mib / multi:,.0f} MiB/s, crc64nvme alone {mib / crc:,.0f} MiB/s"
    )
    print(f"ratio multi-algorithm pass / sha256 alone = {multi / sha:.2f} (time; report only)")
    print(f"ratio crc64nvme speed / sha256 speed = {sha / crc:.1f}x (target >= 4x)")
    return multi / sha, sha / crc


def _timed_hashlib(data: bytes) -> float:
    started = time.perf_counter()
    hashlib.sha256(data).digest()
    return time.perf_counter() - started


def multipart_requests(url: str, bucket: str, config) -> float:
    """Requests per multipart object checked through a proxy that lists ObjectParts as S3 does."""
    from stack.demo_uploads import PART_BYTES, bare_client, put_multipart
    from tests.checksum.support import FaultProxy

    setup = client_for(url, sdk_validation=False, pool=4)
    bare = bare_client(setup)
    kinds = (
        ("composite", "SHA256", "COMPOSITE"),
        ("crc64nvme", "CRC64NVME", "FULL_OBJECT"),
        ("etag", None, None),
    )
    proxy = FaultProxy(url).start()
    try:
        items = []
        for name, algorithm, checksum_type in kinds:
            key = f"uploads/multipart/{name}.bin"
            body = random.Random(name).randbytes(2 * PART_BYTES + 1000)
            put_multipart(setup if algorithm else bare, bucket, key, body, algorithm, checksum_type)
            proxy.object_parts[key] = None
            items.append(ObjectToCheck(key, len(body)))
        results = list(
            check_objects(client_for(proxy.url, sdk_validation=True, pool=4), bucket, items, config)
        )
    finally:
        proxy.stop()
    per_object = sum(r.requests for r in results) / len(results)
    gets = sum(1 for method, key in proxy.requests if method == "GET" and key) / len(results)
    print(
        f"multipart: verdicts {sorted((r.key.rsplit('/', 1)[1], r.outcome, r.source) for r in results)}; "
        f"{per_object:.2f} requests per object ({gets:.2f} GET + {per_object - gets:.2f} metadata; target 1 + <= 1)"
    )
    return per_object if all(r.outcome == OK for r in results) else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--total-mib", type=int, default=1100)
    parser.add_argument("--concurrency", type=int, help="default: include/config/checksum.yaml")
    parser.add_argument("--chunk-kib", type=int, help="default: include/config/checksum.yaml")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed rounds of each method; medians are reported"
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also time the library at other concurrency and chunk settings (for tuning)",
    )
    args = parser.parse_args()

    config = load_config()
    config = replace(
        config,
        concurrency=args.concurrency or config.concurrency,
        chunk_bytes=(args.chunk_kib * KIB) if args.chunk_kib else config.chunk_bytes,
    )
    _, crc_speedup = digest_ratios()
    state = Path(tempfile.mkdtemp(prefix="bench-checksum-"))
    url = start_moto(state, free_port())
    try:
        setup = client_for(url, sdk_validation=False, pool=8)
        bucket = "bench-checksum"
        setup.create_bucket(Bucket=bucket)
        sizes = object_sizes(args.total_mib * MIB, args.seed)
        started = time.perf_counter()
        objects = upload(setup, bucket, sizes, state / "objects.bin", args.seed)
        total = sum(sizes)
        print(
            f"{len(objects):,} objects, {total / MIB:,.0f} MiB (sizes 64 KiB .. 80 MiB); "
            f"uploaded in {time.perf_counter() - started:.1f} s on {os.cpu_count()} cores"
        )

        # The three are timed in alternation, and each figure is the median of its rounds, so that load
        # from other processes on the machine hits all of them alike.
        lib_client = client_for(url, sdk_validation=True, pool=max(10, config.concurrency))
        naive_client = client_for(url, sdk_validation=False, pool=2)
        limits, naives, shas, libs = [], [], [], []
        requests: Counter = Counter()
        outcomes: Counter = Counter()
        for _ in range(args.rounds):
            limits.append(hash_local_file(state / "objects.bin", objects, config.chunk_bytes))
            naives.append(naive_loop(naive_client, bucket, objects))
            shas.append(naive_loop(naive_client, bucket, objects, every_source=False))
            seconds, round_outcomes, round_requests = library(lib_client, bucket, objects, config)
            libs.append(seconds)
            outcomes += round_outcomes
            requests += round_requests
        t_limit, t_naive, t_sha, t_lib = (statistics.median(times) for times in (limits, naives, shas, libs))

        def rate(seconds: float) -> str:
            return f"{total / seconds / MIB:8,.0f} MiB/s  ({seconds:6.2f} s)"

        print(
            f"median of {args.rounds} rounds; library rounds: "
            + ", ".join(f"{total / t / MIB:.0f}" for t in libs)
            + " MiB/s"
        )
        print(f"limit   hashlib over a local file      {rate(t_limit)}")
        print(f"naive   download-then-hash, every source {rate(t_naive)}")
        print(f"naive   download-then-hash, sha256 only  {rate(t_sha)}")
        print(f"library concurrency={config.concurrency} chunk={config.chunk_bytes // KIB} KiB {rate(t_lib)}")
        print(f"ratio library / naive = {t_naive / t_lib:.2f}x (same checks; target >= 1.5x)")
        print(
            f"ratio library / naive sha256 only = {t_sha / t_lib:.2f}x (the library checks more: report only)"
        )
        print(f"ratio library / limit = {t_limit / t_lib:.2f}  (share of the hashing-only speed)")
        gets = requests[("GetObject", "GET")]
        heads = sum(n for (_, method), n in requests.items() if method == "HEAD")
        checked = len(objects) * args.rounds
        print(f"requests: {dict(requests)}; GET per object checked = {gets / checked:.2f}, HEAD = {heads}")
        print(f"verdicts: {dict(outcomes)}")
        if args.sweep:
            for concurrency in (1, 2, 4, 8):
                for chunk_kib in (256, 1024, 4096):
                    tuned = replace(config, concurrency=concurrency, chunk_bytes=chunk_kib * KIB)
                    seconds, _, _ = library(
                        client_for(url, sdk_validation=True, pool=max(10, concurrency)),
                        bucket,
                        objects,
                        tuned,
                    )
                    print(
                        f"  sweep concurrency={concurrency} chunk={chunk_kib:>4} KiB {rate(seconds)} "
                        f"= {t_naive / seconds:.2f}x naive"
                    )
        per_multipart = multipart_requests(url, bucket, config)
        ok = outcomes == Counter({OK: checked}) and gets == checked and heads == 0
        ok = ok and crc_speedup >= 4 and t_naive / t_lib >= 1.5 and per_multipart <= 2
        return 0 if ok else 1
    finally:
        stop_process("s3", state)
        for path in state.iterdir():
            path.unlink()
        state.rmdir()


if __name__ == "__main__":
    sys.exit(main())
