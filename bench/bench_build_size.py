"""Benchmark of build-size measurement: the content-hash cache, and compression on every core.

A synthetic build of 2,000 files and 200 MB (JavaScript-like text that compresses like real bundles:
a few large vendor files, some medium chunks, many small modules) is measured with the results store
as the cache (a throwaway PostgreSQL cluster, or ``--dsn``):

1. *First measurement* (empty cache): every file hashed, then gzip -9 and brotli q11 in a process
   pool. Its throughput is compared with plain ``brotli.compress(quality=11)`` on the same bytes in one
   process, the physical limit of one core (brotli q11 is the cost; gzip and hashing ride along).
2. *Second measurement* of the same build, with a fresh cache object (sizes come from the store, not
   from memory): divided by the first. Target: at most 0.1.
3. *Next build*: 5% of the files changed, the rest identical, as CI builds usually are.

Ratios are from one run on this machine. Other load on the machine moves the wall-clock throughput
ratio (the pool cannot get both cores); the CPU-time ratio and the parallelism printed show how much. Run:
``python bench/bench_build_size.py`` (about 6 minutes on 2 cores) or ``--quick`` (200 files, 20 MB).
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from reliability.buildsize.measure import default_workers, measure_files  # noqa: E402
from reliability.buildsize.sources import LocalBuild  # noqa: E402
from reliability.buildsize.store import SizeCache  # noqa: E402
from reliability.core.store import connect, migrate  # noqa: E402
from stack.demo_builds import javascript  # noqa: E402


def file_sizes(files: int, total: int, seed: int = 7) -> list[int]:
    """0.5% of the files hold 20% of the bytes, 4.5% hold 36%, the rest 44%: a bundler's usual shape."""
    rng = random.Random(seed)
    large, medium = max(1, files // 200), max(1, files * 9 // 200)
    small = files - large - medium
    sizes = (
        [total * 20 // 100 // large] * large
        + [total * 36 // 100 // medium] * medium
        + [total * 44 // 100 // small] * small
    )
    jittered = [max(200, int(s * rng.uniform(0.5, 1.5))) for s in sizes]
    scale = total / sum(jittered)
    return [max(200, int(s * scale)) for s in jittered]


def write_build(
    folder: Path, sizes: list[int], corpus: bytes, seed: int, changed: frozenset[int] = frozenset()
) -> None:
    rng = random.Random(seed)
    for i, size in enumerate(sizes):
        offset = rng.randrange(0, len(corpus) - size)
        header = f"/*! module {i}{' v2' if i in changed else ''} */\n".encode()
        path = folder / f"static/js/{i // 100:02d}/module-{i:05d}.{i * 2654435761 % 2**32:08x}.js"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(header + corpus[offset : offset + size - len(header)])


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the pool's workers, once it shut down)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_measure(folder: Path, conn, workers: int):
    source = LocalBuild(folder, "bench")
    started, cpu = time.perf_counter(), cpu_seconds()
    result = measure_files(source, source.list_files(), SizeCache(conn), workers=workers)
    return time.perf_counter() - started, cpu_seconds() - cpu, result


def brotli_one_process(folder: Path) -> tuple[float, float]:
    started, cpu = time.perf_counter(), cpu_seconds()
    for path in sorted(folder.rglob("*.js")):
        brotli.compress(path.read_bytes(), quality=11)
    return time.perf_counter() - started, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--megabytes", type=float, default=200)
    parser.add_argument("--quick", action="store_true", help="200 files, 20 MB")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--dsn", help="a results store to use (migrated); default: a throwaway cluster")
    args = parser.parse_args()
    if args.quick:
        args.files, args.megabytes = 200, 20

    work = Path(tempfile.mkdtemp(prefix="bench-build-size-"))
    work.chmod(0o755)
    cluster = None
    try:
        dsn = args.dsn
        if dsn is None:
            from stack.postgres import PgCluster

            cluster = PgCluster.create(work / "postgres")
            cluster.start()
            dsn = cluster.create_database("bench")
        migrate(dsn)

        total = int(args.megabytes * 1_000_000)
        sizes = file_sizes(args.files, total)
        corpus = javascript(1, max(8_000_000, 2 * max(sizes)))
        build = work / "build-1"
        write_build(build, sizes, corpus, seed=1)
        changed = frozenset(random.Random(2).sample(range(len(sizes)), max(1, len(sizes) // 20)))
        next_build = work / "build-2"
        write_build(next_build, sizes, corpus, seed=1, changed=changed)
        raw = sum(p.stat().st_size for p in build.rglob("*") if p.is_file())
        print(
            f"build: {len(sizes)} files, {raw / 1e6:.1f} MB; {args.workers} worker(s) on "
            f"{default_workers()} core(s)"
        )

        with connect(dsn, autocommit=True) as conn:
            conn.execute("TRUNCATE reliability.build_size_cache")
            first_s, first_cpu, first = timed_measure(build, conn, args.workers)
            second_s, _, second = timed_measure(build, conn, args.workers)
            next_s, _, following = timed_measure(next_build, conn, args.workers)
        assert second.stats.compressed_files == 0 and second.stats.cache_hits == len(sizes)
        assert following.stats.compressed_files == len(changed)
        assert [f.sizes for f in first.files] == [f.sizes for f in second.files]

        brotli_s, brotli_cpu = brotli_one_process(build)

        print(
            f"first measurement:   {first_s:8.2f} s  {raw / first_s / 1e6:6.2f} MB/s  "
            f"(hash {first.stats.hash_seconds:.2f} s, compress {first.stats.compress_seconds:.2f} s "
            f"on {first.stats.workers} worker(s); {first_cpu:.1f} CPU s, "
            f"parallelism {first_cpu / first_s:.2f})"
        )
        print(
            f"brotli q11, 1 proc:  {brotli_s:8.2f} s  {raw / brotli_s / 1e6:6.2f} MB/s  "
            f"(same bytes, brotli only; {brotli_cpu:.1f} CPU s)"
        )
        print(f"second measurement:  {second_s:8.2f} s  ({second.stats.cache_hits} cache hits, 0 compressed)")
        print(f"next build (5% new): {next_s:8.2f} s  ({following.stats.compressed_files} files compressed)")
        print(f"ratio second / first:                  {second_s / first_s:.4f}  (target <= 0.1)")
        print(f"ratio next build / first:              {next_s / first_s:.4f}")
        print(
            f"throughput first / brotli one process: {brotli_s / first_s:.2f}x  "
            f"(gzip -9, SHA-256 and the store included; ideal ~{args.workers}x on {args.workers} "
            "idle cores)"
        )
        print(
            f"CPU per byte, brotli one process / first: {brotli_cpu / first_cpu:.2f}  "
            "(the work gzip and hashing add; unaffected by other load on the machine)"
        )
    finally:
        if cluster is not None:
            cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
