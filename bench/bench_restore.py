"""Benchmark of restore_test: the whole restore test against a bare ``pg_restore -j 2`` of the same dump.

    python bench/bench_restore.py                      # ~500 MB and ~2 GB databases (an hour or more)
    python bench/bench_restore.py --sizes-mb 500       # one size
    python bench/bench_restore.py --quick              # ~50 and ~200 MB (a few minutes)

Never run by CI or the test suite: the sizes are a flag, and the figures are ratios measured in this run.

Starts its own PostgreSQL cluster and moto S3 server (127.0.0.1, free ports), seeds the platform
database with ``stack.platform.seed_platform``, dumps it with ``pg_dump -Fc`` and uploads the dump with
its manifest the way backup_verify does. Then, alternately for several rounds so that other load on the
machine hits both alike:

- bare: ``createdb`` + ``pg_restore -j 2 --exit-on-error`` of the local dump file;
- whole: :func:`reliability.restore.run.run_restore_test` in a fresh Python process (imports included,
  as in an Airflow task): choose, download + SHA-256, create, pg_restore -j 2, validate (digests, GX,
  pg_amcheck), drop.

Prints, for each size, the medians, their ratio (target <= 1.5) and where the rest of the time goes;
then a table of both sizes with the fixed cost (what a zero-byte database would still take) and the
cost per GB of each side, from the straight line through the two sizes. Then the CPU budget: CPU-seconds of the whole machine used by the bare restore and by the whole test, and each check
measured alone (each in a fresh process, imports included) on one more restored copy. Every process of
both sides (pg_restore, the PostgreSQL backends, psql, Python) shares this machine's cores, so the whole
test can never take less than its CPU-seconds divided by the cores: that lower bound, for all checks and
for subsets of them, says what scheduling can still win and what only less work can.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

MB = 1000 * 1000
SCALE_MB = 49.7  # database size per seed_platform scale unit, measured
BUCKET = "bench-restore"
KEY = "backups/platform/2026/11/29/platform-20261129T020000Z.dump"
CORES = len(os.sched_getaffinity(0))


def cpu_busy() -> float:
    """CPU-seconds the whole machine has spent busy (user, system, irq...; not idle or iowait) since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def child(args) -> None:
    """One whole restore test in this process; prints its figures as JSON."""
    started = time.perf_counter()
    import boto3

    from reliability.restore.config import parse_config
    from reliability.restore.run import run_restore_test
    from reliability.restore.state import Settings

    config = parse_config(
        {
            "databases": [{"name": "platform"}],
            "restore": {"jobs": args.jobs, "download_dir": args.download_dir},
            "validate": {
                "digest_workers": args.jobs,
                "heapallindexed": not args.no_heapallindexed,
                "digest_during_restore": args.during,
            },
        },
        source="bench config",
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    settings = Settings(
        config=config,
        scratch_dsn=os.environ["BENCH_SCRATCH_DSN"],
        source_dsn=os.environ["BENCH_SOURCE_DSN"],
        s3=s3,
        bucket=BUCKET,
    )
    outcome = run_restore_test(settings, "platform", interval_key=f"bench-{time.time()}")
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - started,
                "status": outcome.status,
                "headline": outcome.headline,
                "timings": outcome.summary["timings"],
            }
        )
    )


def run_whole(cluster, source_dsn: str, endpoint: str, args, during: bool = False) -> dict:
    env = {
        **os.environ,
        "BENCH_SCRATCH_DSN": cluster.dsn("postgres"),
        "BENCH_SOURCE_DSN": source_dsn,
        "PYTHONPATH": f"{ROOT / 'include'}{os.pathsep}{ROOT}",
    }
    argv = [
        sys.executable,
        __file__,
        "--child",
        "--endpoint",
        endpoint,
        "--jobs",
        str(args.jobs),
        "--download-dir",
        args.download_dir,
    ]
    if args.no_heapallindexed:
        argv.append("--no-heapallindexed")
    if during:
        argv.append("--during")
    cpu = cpu_busy()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    cpu = cpu_busy() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"restore test process failed: {done.stderr[-3000:]}")
    figures = {**json.loads(done.stdout.strip().splitlines()[-1]), "cpu": cpu}
    if figures["status"] != "success":
        raise RuntimeError(f"the benchmark's restore test did not pass: {figures['headline']}")
    return figures


def run_bare(cluster, dump: Path, jobs: int, name: str, keep: bool = False) -> tuple[float, float]:
    """createdb + bare ``pg_restore -j``: wall seconds and CPU-seconds of the whole machine."""
    from reliability.backups.pgclient import ClientConnection, client_binary

    target = ClientConnection.from_dsn(cluster.dsn(name))
    started, cpu = time.perf_counter(), cpu_busy()
    cluster.create_database(name)
    subprocess.run(
        [
            client_binary("pg_restore"),
            "-j",
            str(jobs),
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            "-d",
            target.conninfo,
            str(dump),
        ],
        env=target.env(),
        check=True,
    )
    measured = time.perf_counter() - started, cpu_busy() - cpu
    if not keep:
        cluster.drop_database(name)
    return measured


# Each check of the validation alone, in the order the first reader pays for setting hint bits: the
# digests read every table first, as they start first in the test.
COMPONENTS = [
    ("digests (first reader)", "digests"),
    ("GX import", "gx_import"),
    ("GX suites (declared expectations)", "gx_suites"),
    ("foreign keys, sequences, collation", "integrity"),
    ("pg_amcheck --heapallindexed", "amcheck"),
    ("pg_amcheck without --heapallindexed", "amcheck_light"),
]


def component_child(args) -> None:
    """One check alone on the restored copy (BENCH_SCRATCH_DSN); prints its wall and CPU-seconds."""
    import boto3

    from reliability.backups.names import split_qualified
    from reliability.restore.amcheck import AmcheckRun
    from reliability.restore.choose import read_manifest
    from reliability.restore.config import load_config
    from reliability.restore.declared import load_expectations
    from reliability.restore.validate import restored_catalog

    dsn = os.environ["BENCH_SCRATCH_DSN"]
    catalog = restored_catalog(dsn)
    if args.component == "gx_suites":
        from reliability.restore.expectations import _gx_expectations

        _gx_expectations()  # imported before the clock starts: the import is its own component
        declared = load_expectations(load_config().expectations_path)
        s3 = boto3.client(
            "s3",
            endpoint_url=args.endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        manifest = read_manifest(s3, BUCKET, KEY)
    started, cpu = time.perf_counter(), cpu_busy()
    if args.component == "digests":
        from reliability.restore.digest import DigestPool

        with DigestPool(dsn, args.jobs) as pool:
            for (schema, table), restored in catalog.items():
                pool.submit(schema, table, restored.copied_columns)
            pool.results()
    elif args.component == "gx_import":
        from reliability.restore.expectations import _gx_expectations

        _gx_expectations()
    elif args.component == "integrity":
        from reliability.restore.integrity import check_integrity

        report = check_integrity(dsn)
        assert all(f.ok for f in report.foreign_keys) and all(q.ok for q in report.sequences), report
    elif args.component == "gx_suites":
        from reliability.restore.expectations import TableSpec, run_expectations

        wanted = {split_qualified(d.table) for d in declared}
        specs = [
            TableSpec(name=name, schema=key[0], table=key[1])
            for name in manifest.tables
            for key in [split_qualified(name)]
            if key in wanted
        ]
        report = run_expectations(dsn, specs, declared)
        assert report.failed == 0, report.failures
    else:
        result = AmcheckRun(dsn, args.jobs, heapallindexed=args.component == "amcheck").result({})
        assert result.ran and not result.problems, result
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu": cpu_busy() - cpu}))


def measure_components(cluster, dump: Path, endpoint: str, args) -> dict[str, dict]:
    name = "bench_components"
    run_bare(cluster, dump, args.jobs, name, keep=True)
    env = {
        **os.environ,
        "BENCH_SCRATCH_DSN": cluster.dsn(name),
        "PYTHONPATH": f"{ROOT / 'include'}{os.pathsep}{ROOT}",
    }
    found = {}
    try:
        for _, component in COMPONENTS:
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--component",
                    component,
                    "--endpoint",
                    endpoint,
                    "--jobs",
                    str(args.jobs),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise RuntimeError(f"component {component} failed: {done.stderr[-3000:]}")
            found[component] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        cluster.drop_database(name)
    return found


def report_budget(
    components: dict[str, dict], bare: float, bare_cpu: float, whole: float, whole_cpu: float
) -> float:
    """Prints the budget; returns the lower bound of the ratio with every check (the CPU floor)."""
    print(f"\nCPU budget (CPU-seconds of the whole machine, {CORES} cores shared by every process):")
    print(f"    {'bare pg_restore (median)':42s} {bare_cpu:7.2f}  wall {bare:6.2f} s")
    print(
        f"    {'whole restore test (median)':42s} {whole_cpu:7.2f}  wall {whole:6.2f} s  "
        f"-> at best {whole_cpu / CORES:.2f} s on {CORES} cores, ratio >= {whole_cpu / CORES / bare:.2f}"
    )
    print("  each check alone on a restored copy (a fresh process each, imports included):")
    for label, key in COMPONENTS:
        print(f"    {label:42s} {components[key]['cpu']:7.2f}  wall {components[key]['seconds']:6.2f} s")
    cpu = {key: value["cpu"] for key, value in components.items()}
    every = ("digests", "gx_import", "gx_suites", "integrity", "amcheck")
    subsets = [
        ("every check (as the test runs)", every),
        ("without --heapallindexed", ("digests", "gx_import", "gx_suites", "integrity", "amcheck_light")),
        ("without GX", ("digests", "integrity", "amcheck")),
        ("digests alone", ("digests",)),
    ]
    print(
        f"  lower bound of the ratio = (bare restore CPU + checks' CPU) / {CORES} cores / bare wall, "
        "ignoring download, create and process start:"
    )
    for label, keys in subsets:
        print(f"    {label:42s} {(bare_cpu + sum(cpu[k] for k in keys)) / CORES / bare:7.2f}")
    return (bare_cpu + sum(cpu[k] for k in every)) / CORES / bare


def database_size(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def make_backup(cluster, dsn: str, dump: Path, s3) -> None:
    """Dump, manifest (rows, digests and columns read back from the source) and upload, like backup_verify."""
    import psycopg

    from reliability.backups.manifest import Manifest, TableEntry, manifest_key
    from reliability.backups.pgclient import ClientConnection, client_binary
    from reliability.restore.digest import DigestPool

    source = ClientConnection.from_dsn(dsn)
    started = datetime.now(UTC)
    subprocess.run(
        [client_binary("pg_dump"), "-Fc", "-f", str(dump), "-d", source.conninfo],
        env=source.env(),
        check=True,
    )
    with psycopg.connect(dsn) as conn:
        columns = {
            t: tuple(
                c
                for (c,) in conn.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                    "AND attgenerated = '' ORDER BY attnum",
                    (f"public.{t}",),
                )
            )
            for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    with DigestPool(dsn, 2) as pool:
        for table, cols in columns.items():
            pool.submit("public", table, cols)
        digests = pool.results()
    sha = hashlib.sha256()
    with dump.open("rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    manifest = Manifest(
        database="platform",
        dump_key=KEY,
        format="custom",
        compression=6,
        server_version="15",
        pg_dump_version="15",
        started_at=(started - timedelta(minutes=1)).isoformat(),
        finished_at=datetime.now(UTC).isoformat(),
        size_bytes=dump.stat().st_size,
        sha256=sha.hexdigest(),
        tables={
            f"public.{t}": TableEntry(
                rows=digests[("public", t)].rows, digest=digests[("public", t)].digest, columns=columns[t]
            )
            for t in columns
        },
        toc={},
        verdict="verified",
    )
    s3.upload_file(str(dump), BUCKET, KEY)
    s3.put_object(Bucket=BUCKET, Key=manifest_key(KEY), Body=manifest.to_json().encode())


BREAKDOWN = [
    ("choose backup (S3 list + manifest)", "choose_backup"),
    ("download + SHA-256", "download_and_check"),
    ("create scratch database", "create_scratch_database"),
    ("pg_restore (the RTO part)", "pg_restore"),
    ("digests still running after pg_restore", "digest_after_restore"),
    ("validate step", "validate"),
    ("  GX import", "gx_import"),
    ("  GX suites incl. import (first, in a thread)", "gx"),
    ("  digests (niced processes, alongside)", "digests"),
    ("  pg_amcheck (alongside)", "amcheck"),
    ("  foreign keys, sequences (a thread, alongside)", "integrity"),
]


def report_breakdown(timings: list[dict], whole: float, bare: float) -> None:
    median = {key: statistics.median(t.get(key, 0.0) for t in timings) for _, key in BREAKDOWN}
    steps = ("choose_backup", "download_and_check", "create_scratch_database", "validate")
    restore_step = statistics.median(t.get("restore", 0.0) for t in timings)
    print("  where the time goes (medians, seconds):")
    for label, key in BREAKDOWN:
        print(f"    {label:42s} {median[key]:7.2f}")
    print(
        f"    {'process start, imports, teardown':42s} "
        f"{whole - restore_step - sum(median[k] for k in steps):7.2f}"
    )
    print(f"  pg_restore inside the test vs bare: {median['pg_restore'] / bare:.2f}x")


def measure_size(cluster, s3, endpoint: str, root: Path, size_mb: float, args) -> dict:
    """Seed, dump and upload a database of ``size_mb``, time both sides, report; returns the medians."""
    from reliability.backups.manifest import manifest_key
    from stack.platform import seed_platform

    name = f"platform_{size_mb:.0f}mb"
    dsn = cluster.create_database(name, exist_ok=True)
    started = time.perf_counter()
    rows = seed_platform(dsn, size_mb / SCALE_MB)
    size = database_size(dsn)
    print(
        f"\n=== {size / MB:.0f} MB: seeded {name}, {sum(rows.values()):,} rows in "
        f"{time.perf_counter() - started:.0f} s (PostgreSQL {cluster.port}, S3 {endpoint})",
        flush=True,
    )
    dump = root / "platform.dump"
    make_backup(cluster, dsn, dump, s3)
    print(f"dump: {dump.stat().st_size / MB:.0f} MB (custom format), uploaded with its manifest", flush=True)

    variants = {"whole": False}
    if args.also_digest_during:
        variants["whole, digest during pg_restore"] = True
    run_whole(cluster, dsn, endpoint, args)  # warm-up: page cache, moto, first GX import from disk
    bare: list[float] = []
    bare_cpu: list[float] = []
    whole: dict[str, list[float]] = {v: [] for v in variants}
    whole_cpu: dict[str, list[float]] = {v: [] for v in variants}
    timings: dict[str, list[dict]] = {v: [] for v in variants}
    for i in range(args.rounds):
        seconds, cpu = run_bare(cluster, dump, args.jobs, f"bare_{i}")
        bare.append(seconds)
        bare_cpu.append(cpu)
        line = f"  round {i + 1}: bare pg_restore -j {args.jobs} {bare[-1]:.2f} s"
        for variant, during in variants.items():
            figures = run_whole(cluster, dsn, endpoint, args, during)
            whole[variant].append(figures["seconds"])
            whole_cpu[variant].append(figures["cpu"])
            timings[variant].append(figures["timings"])
            line += f", {variant} {figures['seconds']:.2f} s"
        print(line, flush=True)
    base = statistics.median(bare)
    for variant in variants:
        ratio = statistics.median(whole[variant]) / base
        print(
            f"\n{variant}: median {statistics.median(whole[variant]):.2f} s vs bare {base:.2f} s -> ratio "
            f"{ratio:.2f} (target <= 1.5); best-vs-best {min(whole[variant]) / min(bare):.2f}"
        )
        report_breakdown(timings[variant], statistics.median(whole[variant]), base)
    components = measure_components(cluster, dump, endpoint, args)
    floor = report_budget(
        components,
        base,
        statistics.median(bare_cpu),
        statistics.median(whole["whole"]),
        statistics.median(whole_cpu["whole"]),
    )
    # The next size starts from an empty bucket and cluster: the test must not choose this dump.
    s3.delete_object(Bucket=BUCKET, Key=KEY)
    s3.delete_object(Bucket=BUCKET, Key=manifest_key(KEY))
    cluster.drop_database(name)
    dump.unlink()
    whole_median = statistics.median(whole["whole"])
    return {
        "mb": size / MB,
        "bare": base,
        "whole": whole_median,
        "ratio": whole_median / base,
        "floor": floor,
    }


def report_sizes(results: list[dict]) -> None:
    """Both sizes side by side; with two or more, the fixed and per-GB costs of each side."""
    print("\n=== by size (medians)")
    print(f"    {'database':>10s} {'bare s':>9s} {'whole s':>9s} {'ratio':>7s} {'CPU floor':>10s}")
    for r in results:
        print(
            f"    {r['mb']:8.0f} MB {r['bare']:9.2f} {r['whole']:9.2f} {r['ratio']:7.2f} {r['floor']:10.2f}"
        )
    if len(results) < 2:
        return
    small, large = min(results, key=lambda r: r["mb"]), max(results, key=lambda r: r["mb"])
    gb = (large["mb"] - small["mb"]) / 1000
    for side in ("bare", "whole"):
        per_gb = (large[side] - small[side]) / gb
        fixed = small[side] - per_gb * small["mb"] / 1000
        print(f"    {side:6s} fixed {fixed:7.2f} s + {per_gb:7.2f} s per GB")
    marginal = (large["whole"] - small["whole"]) / (large["bare"] - small["bare"])
    print(f"    ratio of the per-GB costs (what the ratio tends to on large databases): {marginal:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="~50 and ~200 MB databases (a few minutes)")
    parser.add_argument(
        "--sizes-mb",
        type=lambda text: [float(v) for v in text.split(",")],
        help="comma-separated database sizes to seed and measure (default 500,2000; quick 50,200)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of bare pg_restore and the test"
    )
    parser.add_argument("--jobs", type=int, default=2, help="pg_restore -j (both sides) and digest workers")
    parser.add_argument(
        "--no-heapallindexed",
        action="store_true",
        help="pg_amcheck without --heapallindexed (indexes checked, not against their tables)",
    )
    parser.add_argument(
        "--also-digest-during",
        action="store_true",
        help="also time the variant that digests tables while pg_restore builds indexes",
    )
    parser.add_argument(
        "--keep", metavar="DIR", help="keep the cluster (and its seeded data) in DIR for reruns"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--download-dir", help=argparse.SUPPRESS)
    parser.add_argument("--during", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--component", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.component:
        component_child(args)
        return

    import boto3

    from stack.postgres import PgCluster
    from stack.processes import free_port, stop_process
    from stack.services import start_moto

    sizes = args.sizes_mb or ([50.0, 200.0] if args.quick else [500.0, 2000.0])
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-restore-"))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    args.download_dir = str(root / "downloads")
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
        s3.create_bucket(Bucket=BUCKET)
        results = [measure_size(cluster, s3, endpoint, root, size_mb, args) for size_mb in sizes]
        report_sizes(results)
    finally:
        stop_process("s3", root)
        if args.keep:
            cluster.stop()
        else:
            cluster.destroy()
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
