"""Verify a dump from the command line, the same way the nightly job does.

    python -m reliability.backup verify --file nightly.dump
    python -m reliability.backup verify --s3-key backups/platform/.../x.dump --bucket B --endpoint-url U

Prints the result as JSON on stdout; exits 0 when verified, 1 when suspicious, 2 when corrupt or failed.
A manifest next to the dump (``<dump>.manifest.json``, or ``--manifest``) is checked too. To compare the
dump's tables with a live database, put its connection string in an environment variable and name the
variable with ``--source-dsn-env`` (a password never belongs on a command line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from reliability.backup.config import VerifyThresholds
from reliability.backups.manifest import MANIFEST_SUFFIX, Manifest, ManifestError

EXIT_CODES = {"verified": 0, "suspicious": 1, "corrupt": 2, "failed": 2}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reliability.backup", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="read every block of a dump and judge it")
    source = verify.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--file", type=Path, help="a custom-format dump, a tar of a directory dump, or a dump folder"
    )
    source.add_argument("--s3-key", help="key of the dump object")
    verify.add_argument("--bucket", help="bucket of --s3-key")
    verify.add_argument(
        "--endpoint-url",
        help="S3 endpoint (MinIO, a local server); credentials from the AWS "
        "environment variables or profile as usual",
    )
    verify.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    verify.add_argument(
        "--manifest", type=Path, help="manifest file to compare with (default: next to --file)"
    )
    verify.add_argument(
        "--source-dsn-env",
        metavar="VAR",
        help="environment variable holding the source database's connection string",
    )
    verify.add_argument(
        "--exclude-table",
        action="append",
        default=[],
        metavar="SCHEMA.TABLE",
        help="table pattern excluded from the comparison with the source (repeatable)",
    )
    verify.add_argument("--expect-database", help="the database name the dump must be of")
    verify.add_argument("--large-table-min-rows", type=int, default=VerifyThresholds.large_table_min_rows)
    verify.add_argument("--workdir", help="folder for unpacking a tar of a directory dump (default: TMPDIR)")
    return parser


def _local_manifest(path: Path | None, dump: Path, warnings: list[str]) -> Manifest | None:
    candidate = path or dump.with_name(dump.name + MANIFEST_SUFFIX)
    if not candidate.exists():
        if path:
            warnings.append(f"manifest {path} not found")
        return None
    try:
        return Manifest.from_json(candidate.read_bytes(), str(candidate))
    except ManifestError as exc:
        warnings.append(str(exc))
        return None


def verify_command(args) -> dict:
    from reliability.backup.catalog import CatalogUnavailable, read_catalog
    from reliability.backup.verdict import judge_read
    from reliability.backup.verify import read_dump_object, read_dump_path

    warnings: list[str] = []
    if args.file is not None:
        source = str(args.file)
        manifest = _local_manifest(args.manifest, args.file, warnings)
        read = read_dump_path(args.file, args.workdir)
    else:
        import boto3

        from reliability.backup.manifests import load_manifest

        if not args.bucket:
            raise SystemExit("--s3-key needs --bucket")
        source = f"s3://{args.bucket}/{args.s3_key}"
        s3 = boto3.client("s3", endpoint_url=args.endpoint_url, region_name=args.region)
        manifest = load_manifest(s3, args.bucket, args.s3_key, warnings)
        read = read_dump_object(s3, args.bucket, args.s3_key, args.workdir)
    catalog = None
    if args.source_dsn_env:
        dsn = os.environ.get(args.source_dsn_env)
        if not dsn:
            raise SystemExit(f"environment variable {args.source_dsn_env} is not set")
        try:
            catalog = read_catalog(dsn, tuple(args.exclude_table))
        except CatalogUnavailable as exc:
            warnings.append(f"{exc}; the dump's tables were not compared with the source")
    thresholds = VerifyThresholds(large_table_min_rows=args.large_table_min_rows)
    verdict = judge_read(
        read,
        thresholds=thresholds,
        catalog=catalog,
        dbname=args.expect_database or (catalog.dbname if catalog else None),
        manifest=manifest,
    )
    report = read.report
    return {
        "source": source,
        "verdict": verdict.verdict,
        "reasons": list(verdict.reasons),
        "warnings": warnings + ([f"pg_restore: {w}" for w in report.warnings] if report else []),
        "format": read.format,
        "size_bytes": read.size_bytes,
        "sha256": read.sha256,
        "manifest_checked": manifest is not None,
        "catalog_checked": catalog is not None,
        "database": report.dbname if report else None,
        "server_version": report.server_version if report else None,
        "pg_dump_version": report.pg_dump_version if report else None,
        "toc": dict(report.toc) if report else {},
        "rows": report.rows if report else 0,
        "tables": {
            name: {"rows": t.digest.rows, "digest": t.digest.hexdigest, "columns": list(t.columns)}
            for name, t in report.tables.items()
        }
        if report
        else {},
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    result = verify_command(args)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_CODES[result["verdict"]]


if __name__ == "__main__":
    sys.exit(main())
