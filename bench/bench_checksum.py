"""Benchmark: checksum validation throughput on a local S3 server, against two baselines from the same run.

Puts a little over 1 GiB in many objects of mixed sizes on a moto S3 server (half with an S3 SHA-256
checksum, half with a ``sha256`` metadata entry) and verifies all of them three ways:

* limit  -- ``hashlib.sha256`` over the same bytes from a local file (page cache): what hashing alone costs
            on this machine, no network, no server;
* naive  -- a sequential loop: ``get_object``, ``Body.read()``, then hash (botocore's own checksum
            validation switched off, so it hashes each byte once, as the library does);
* library -- :func:`reliability.checksum.hashing.check_objects` (concurrent streaming re-hash).

Prints bytes/s of each, the ratios library/naive (target >= 1.5) and library/limit, and the requests the
library sent (counted with botocore's ``before-send`` hook): one GET per object, no HEAD.

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
from reliability.checksum.hashing import OK, ObjectToCheck, check_objects  # noqa: E402
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
            extra = {"ChecksumAlgorithm": "SHA256"} if i % 2 else {"Metadata": {"sha256": digest}}
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


def naive_loop(client, bucket: str, objects) -> float:
    started = time.perf_counter()
    for key, _, digest in objects:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == digest
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
        limits, naives, libs = [], [], []
        requests: Counter = Counter()
        outcomes: Counter = Counter()
        for _ in range(args.rounds):
            limits.append(hash_local_file(state / "objects.bin", objects, config.chunk_bytes))
            naives.append(naive_loop(naive_client, bucket, objects))
            seconds, round_outcomes, round_requests = library(lib_client, bucket, objects, config)
            libs.append(seconds)
            outcomes += round_outcomes
            requests += round_requests
        t_limit, t_naive, t_lib = (statistics.median(times) for times in (limits, naives, libs))

        def rate(seconds: float) -> str:
            return f"{total / seconds / MIB:8,.0f} MiB/s  ({seconds:6.2f} s)"

        print(
            f"median of {args.rounds} rounds; library rounds: "
            + ", ".join(f"{total / t / MIB:.0f}" for t in libs)
            + " MiB/s"
        )
        print(f"limit   hashlib over a local file      {rate(t_limit)}")
        print(f"naive   sequential download-then-hash  {rate(t_naive)}")
        print(f"library concurrency={config.concurrency} chunk={config.chunk_bytes // KIB} KiB {rate(t_lib)}")
        print(f"ratio library / naive = {t_naive / t_lib:.2f}x (target >= 1.5x)")
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
        ok = outcomes == Counter({OK: checked}) and gets == checked and heads == 0
        return 0 if ok else 1
    finally:
        stop_process("s3", state)
        for path in state.iterdir():
            path.unlink()
        state.rmdir()


if __name__ == "__main__":
    sys.exit(main())
