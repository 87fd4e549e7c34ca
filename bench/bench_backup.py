"""Benchmark of backup_verify: dump+hash+upload+verify against a bare ``pg_dump -Fc``, and its memory.

    python bench/bench_backup.py            # ~520 MB database for the time ratio, 100 MB and 1 GB for memory
    python bench/bench_backup.py --quick    # ~100 MB for the ratio, 20 MB and 100 MB for memory

Starts its own PostgreSQL cluster and moto S3 server (127.0.0.1, free ports) and seeds the platform
databases with ``stack.platform.seed_platform``. Each measurement runs the job in a fresh Python
process, which reports its wall time and peak resident memory (VmHWM): the figure that must stay flat
whatever the database size. The bare pg_dump and the job run alternately, several rounds, so that
other load on the machine hits both alike; the medians are compared.

Targets: time ratio <= 1.3 (canary and CRC64NVME included); canary under 5 % of the job; peak RSS
< 200 MB and flat between the two sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

MB = 1000 * 1000
BOUNDED_PARTS = 4  # the part being filled, two queued, one being sent (reliability.backup.upload)
SCALE_MB = 49.7  # database size per seed_platform scale unit, measured


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(args) -> None:
    """One job run in this process; prints its figures as JSON."""
    import boto3

    from reliability.backup.config import BackupConfig
    from reliability.backup.models import BackupRequest, BackupTargets
    from reliability.backup.run import execute
    from reliability.backups.databases import DatabaseConfig

    s3 = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    config = BackupConfig(databases=(DatabaseConfig("platform"),))
    targets = BackupTargets(source_dsn=os.environ["BENCH_SOURCE_DSN"], s3=s3, bucket=args.bucket)
    before = _vm_hwm_mb()
    started = time.perf_counter()
    result = execute(
        BackupRequest("platform", compression=args.compression, interval_key=f"bench-{time.time()}"),
        config,
        targets,
    )
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "verdict": result.verdict.verdict,
                "reasons": list(result.verdict.reasons),
                "size_bytes": result.size_bytes,
                "rows": result.rows,
                "canary_ok": result.canary.ok if result.canary else None,
                "canary_seconds": result.canary.seconds if result.canary else None,
                "rss_after_imports_mb": before,
                "peak_rss_mb": _vm_hwm_mb(),
            }
        )
    )


def run_job(dsn: str, endpoint: str, bucket: str, compression: int) -> dict:
    env = {**os.environ, "BENCH_SOURCE_DSN": dsn, "PYTHONPATH": f"{ROOT / 'include'}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "--endpoint",
            endpoint,
            "--bucket",
            bucket,
            "--compression",
            str(compression),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"job process failed: {done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["verdict"] != "verified":
        raise RuntimeError(f"the benchmark's dump was not verified: {figures['reasons']}")
    return figures


def run_bare(dsn: str, compression: int) -> float:
    from reliability.backups.pgclient import ClientConnection, client_binary

    conn = ClientConnection.from_dsn(dsn)
    started = time.perf_counter()
    subprocess.run(
        [
            client_binary("pg_dump"),
            "--format=custom",
            f"--compress={compression}",
            f"--dbname={conn.conninfo}",
        ],
        env=conn.env(),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started


def database_size(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def seeded(cluster, name: str, target_mb: float) -> str:
    from stack.platform import seed_platform

    dsn = cluster.create_database(name, exist_ok=True)
    started = time.perf_counter()
    seed_platform(dsn, target_mb / SCALE_MB)
    with cluster.connect(name, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(
        f"  seeded {name}: {database_size(dsn) / MB:.0f} MB in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return dsn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller databases (about a minute)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of bare pg_dump and the job"
    )
    parser.add_argument("--compression", type=int, default=6)
    parser.add_argument(
        "--keep", metavar="DIR", help="keep the cluster (and its seeded data) in DIR for reruns"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--bucket", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    import boto3

    from stack.postgres import PgCluster
    from stack.processes import free_port, stop_process
    from stack.services import start_moto

    ratio_mb, memory_mb = (100, (20, 100)) if args.quick else (520, (100, 1000))
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-backup-"))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    cluster = PgCluster.create(root / "postgres")
    cluster.start()
    endpoint = start_moto(root, free_port())
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        s3.create_bucket(Bucket="bench-backups")
        print(f"seeding (PostgreSQL {cluster.port}, S3 {endpoint}):", flush=True)
        ratio_dsn = seeded(cluster, f"platform_{ratio_mb}mb", ratio_mb)
        memory_dsns = {mb: seeded(cluster, f"platform_{mb}mb", mb) for mb in memory_mb}

        print(
            f"\ntime: {args.rounds} alternating rounds on {database_size(ratio_dsn) / MB:.0f} MB, "
            f"compression {args.compression}",
            flush=True,
        )
        run_job(
            ratio_dsn, endpoint, "bench-backups", args.compression
        )  # warm the page cache like the bare run
        bare, job, canary = [], [], []
        for i in range(args.rounds):
            bare.append(run_bare(ratio_dsn, args.compression))
            figures = run_job(ratio_dsn, endpoint, "bench-backups", args.compression)
            job.append(figures["seconds"])
            if not figures["canary_ok"]:
                raise RuntimeError(f"the canary was not caught: {figures}")
            canary.append(figures["canary_seconds"])
            print(
                f"  round {i + 1}: bare pg_dump -Fc {bare[-1]:.2f} s, job {job[-1]:.2f} s "
                f"(dump {figures['size_bytes'] / MB:.0f} MB, {figures['rows']:,} rows, "
                f"peak RSS {figures['peak_rss_mb']:.0f} MB)",
                flush=True,
            )
        ratio = statistics.median(job) / statistics.median(bare)
        print(
            f"  median: bare {statistics.median(bare):.2f} s, job {statistics.median(job):.2f} s -> "
            f"ratio {ratio:.2f} (target <= 1.3); best-vs-best {min(job) / min(bare):.2f}"
        )
        share = statistics.median(canary) / statistics.median(job)
        print(
            f"  canary (a cut-off copy of the first MiB, which must be judged corrupt): median "
            f"{statistics.median(canary):.2f} s = {share:.1%} of the job (target < 5 %)"
        )

        print("\nmemory: peak RSS of the job's Python process", flush=True)
        peaks = {}
        for mb, dsn in memory_dsns.items():
            figures = run_job(dsn, endpoint, "bench-backups", args.compression)
            peaks[mb] = figures["peak_rss_mb"]
            print(
                f"  {database_size(dsn) / MB:5.0f} MB database (dump {figures['size_bytes'] / MB:.0f} MB): "
                f"peak {figures['peak_rss_mb']:.0f} MB "
                f"(after imports {figures['rss_after_imports_mb']:.0f} MB), "
                f"{figures['seconds']:.1f} s",
                flush=True,
            )
        small, large = (peaks[mb] for mb in memory_mb)
        print(
            f"  growth {large - small:+.0f} MB for {memory_mb[1] / memory_mb[0]:.0f}x the data "
            f"(target: under 200 MB and flat). The bound is structural: imports plus at most "
            f"{BOUNDED_PARTS} multipart parts in flight, reached once a dump exceeds that many parts."
        )
    finally:
        stop_process("s3", root)
        if args.keep:
            cluster.stop()
        else:
            cluster.destroy()
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
