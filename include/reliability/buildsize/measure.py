"""Per-file sizes: raw, gzip (level 9) and brotli (quality 11), with a content-hash cache.

Brotli at quality 11 compresses about 1 MB/s on one core, so it dominates the cost. Three things
keep that cost down:

1. every file is hashed first (SHA-256, about 1 GB/s) and sizes are looked up by content in the
   cache: a file that did not change since any earlier build is never compressed again;
2. identical files within a build are compressed once;
3. the files left are compressed in a pool of processes (one per core), largest first, small
   files batched so thousands of them do not cost thousands of round trips.

Files are streamed in chunks (gzip and brotli both have streaming encoders), so a file of several
hundred MB needs a few MB of memory plus the brotli encoder's window. S3 objects are spooled to a
temporary folder while they are hashed, so each object is downloaded once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import brotli

from reliability.buildsize.errors import BuildSizeError, UnreadableFiles
from reliability.buildsize.sizes import Sizes
from reliability.buildsize.sources import CHUNK, BuildFile, BuildSource, UnreadableFile

log = logging.getLogger(__name__)

GZIP_LEVEL = 9
BROTLI_QUALITY = 11
BROTLI_WINDOW = 22  # the encoder's default (4 MiB), as CDNs and bundler plugins use
SETTINGS = (
    f"gzip{GZIP_LEVEL}+brotli{BROTLI_QUALITY}w{BROTLI_WINDOW};"
    f"zlib {zlib.ZLIB_RUNTIME_VERSION};brotli {brotli.__version__}"
)
# Small files travel to a worker together: a batch ends at this many files, or at a share of the work
# small enough that every worker gets several batches (bounded by these sizes).
BATCH_FILES = 256
BATCH_BYTES = (64 << 10, 1 << 20)
# Below this much work, starting worker processes costs more than it saves.
POOL_MIN_BYTES = 512 << 10


class FileChanged(BuildSizeError):
    pass


@dataclass(frozen=True)
class MeasuredFile:
    path: str
    sha256: bytes
    sizes: Sizes
    cached: bool


@dataclass(frozen=True)
class MeasureStats:
    files: int
    bytes: int
    cache_hits: int
    compressed_files: int
    compressed_bytes: int
    workers: int
    hash_seconds: float
    compress_seconds: float


@dataclass(frozen=True)
class Measurement:
    files: tuple[MeasuredFile, ...]
    stats: MeasureStats


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def compress_sizes(path: str, chunk_size: int = CHUNK) -> tuple[bytes, Sizes]:
    """SHA-256 and the three sizes of one file, streamed."""
    digest = hashlib.sha256()
    gzip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # wbits 31: gzip framing, as `gzip -9 -n`
    encoder = brotli.Compressor(quality=BROTLI_QUALITY, lgwin=BROTLI_WINDOW)
    raw = gz = br = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            raw += len(chunk)
            digest.update(chunk)
            gz += len(gzip.compress(chunk))
            br += len(encoder.process(chunk))
    gz += len(gzip.flush())
    br += len(encoder.finish())
    return digest.digest(), Sizes(raw, gz, br)


def _compress_batch(items: list[tuple[str, bytes]], chunk_size: int) -> list[tuple[bytes, bytes, Sizes]]:
    """Worker entry point: ``(expected sha, actual sha, sizes)`` for each ``(path, expected sha)``."""
    return [(expected, *compress_sizes(path, chunk_size)) for path, expected in items]


def _batches(items: list[tuple[str, bytes, int]], workers: int) -> list[list[tuple[str, bytes]]]:
    """``(path, sha)`` groups, largest files first so no worker is left with a big file at the end."""
    low, high = BATCH_BYTES
    limit = min(high, max(low, sum(i[2] for i in items) // (4 * workers)))
    batches: list[list[tuple[str, bytes]]] = []
    current: list[tuple[str, bytes]] = []
    current_bytes = 0
    for path, sha, size in sorted(items, key=lambda i: -i[2]):
        current.append((path, sha))
        current_bytes += size
        if current_bytes >= limit or len(current) >= BATCH_FILES:
            batches.append(current)
            current, current_bytes = [], 0
    if current:
        batches.append(current)
    return batches


def measure_files(
    source: BuildSource,
    files: Sequence[BuildFile],
    cache,
    *,
    workers: int | None = None,
    chunk_size: int = CHUNK,
) -> Measurement:
    """Sizes of ``files`` of ``source``; raises :class:`UnreadableFiles` naming every file that failed.

    ``cache`` maps content hashes to sizes (:class:`reliability.buildsize.store.SizeCache`).
    """
    workers = workers or default_workers()
    spool = None if source.is_local else Path(tempfile.mkdtemp(prefix="buildsize-"))
    try:
        started = time.perf_counter()
        hashed, problems = _hash_all(source, files, spool, chunk_size)
        if problems:
            raise UnreadableFiles(source.where, problems)
        hash_seconds = time.perf_counter() - started

        known = cache.get_many({sha for _, sha, _, _ in hashed})
        todo: dict[bytes, tuple[str, bytes, int]] = {}
        for _, sha, local, raw in hashed:
            if sha not in known:
                todo.setdefault(sha, (local, sha, raw))
        started = time.perf_counter()
        results, used = _compress_all(list(todo.values()), workers, chunk_size)
        compress_seconds = time.perf_counter() - started
        fresh = {}
        for expected, actual, sizes in results:
            if actual != expected:
                name = next(f.path for f, sha, _, _ in hashed if sha == expected)
                raise FileChanged(
                    f"{name} of {source.where} changed while it was being measured; "
                    "measure the build again once it is complete"
                )
            fresh[expected] = sizes
        cache.put_many(fresh)
    finally:
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)

    measured = tuple(
        MeasuredFile(file.path, sha, known.get(sha) or fresh[sha], sha in known) for file, sha, _, _ in hashed
    )
    stats = MeasureStats(
        files=len(measured),
        bytes=sum(m.sizes.raw for m in measured),
        cache_hits=sum(m.cached for m in measured),
        compressed_files=len(todo),
        compressed_bytes=sum(i[2] for i in todo.values()),
        workers=used,
        hash_seconds=round(hash_seconds, 3),
        compress_seconds=round(compress_seconds, 3),
    )
    log.info(
        "measured %s: %d files, %d bytes, %d from cache, %d compressed (%d bytes) on %d worker(s) "
        "in %.2fs + %.2fs",
        source.where,
        stats.files,
        stats.bytes,
        stats.cache_hits,
        stats.compressed_files,
        stats.compressed_bytes,
        stats.workers,
        stats.hash_seconds,
        stats.compress_seconds,
    )
    return Measurement(measured, stats)


def _hash_all(source: BuildSource, files: Sequence[BuildFile], spool: Path | None, chunk_size: int):
    def one(index: int, file: BuildFile):
        digest = hashlib.sha256()
        raw = 0
        local = file.locator if spool is None else str(spool / str(index))
        try:
            out = open(local, "wb") if spool is not None else None
            try:
                for chunk in source.read_chunks(file, chunk_size):
                    digest.update(chunk)
                    raw += len(chunk)
                    if out is not None:
                        out.write(chunk)
            finally:
                if out is not None:
                    out.close()
        except UnreadableFile as exc:
            return None, (file.path, str(exc))
        return (file, digest.digest(), local, raw), None

    # Threads, not processes: hashing releases the GIL and S3 reads wait on the network.
    threads = min(len(files), 4 if source.is_local else 16) or 1
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="buildsize-hash") as pool:
        results = list(pool.map(one, range(len(files)), files))
    return [r for r, _ in results if r is not None], [p for _, p in results if p is not None]


def _compress_all(todo: list[tuple[str, bytes, int]], workers: int, chunk_size: int):
    """``(results, workers used)`` for the ``(local path, sha, size)`` items."""
    batches = _batches(todo, workers)
    if workers > 1 and len(batches) > 1 and sum(i[2] for i in todo) >= POOL_MIN_BYTES:
        import multiprocessing

        # spawn, not fork: the caller (an Airflow task, a web server) may hold threads and sockets
        # that a forked child must not inherit.
        used = min(workers, len(batches))
        with ProcessPoolExecutor(max_workers=used, mp_context=multiprocessing.get_context("spawn")) as pool:
            done = pool.map(_compress_batch, batches, [chunk_size] * len(batches))
            return [r for batch in done for r in batch], used
    return [r for batch in batches for r in _compress_batch(batch, chunk_size)], 1
