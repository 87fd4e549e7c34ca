from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reliability.backup.catalog import SourceCatalog, SourceTable
from reliability.backup.config import VerifyThresholds
from reliability.backup.sqlstream import ArchiveReport, TableData
from reliability.backup.verdict import HistoryPoint, judge
from reliability.backups.manifest import Manifest, TableEntry

T = datetime(2026, 11, 28, 2, tzinfo=UTC)
THRESHOLDS = VerifyThresholds(size_drop_ratio=0.5, rows_drop_ratio=0.5, large_table_min_rows=1000)


def report(rows: dict[str, int], dbname="platform") -> ArchiveReport:
    r = ArchiveReport(dbname=dbname, complete=True, returncode=0)
    r.toc.update({"TABLE": len(rows), "TABLE DATA": len(rows)})
    for name, n in rows.items():
        table = TableData(f"public.{name}", "public", name, ("id",), complete=True)
        table.digest.add_lines([str(i).encode() for i in range(n)])
        r.tables[table.qualified_name] = table
        r.toc_tables.add(("public", name))
        r.data_entries.append(("public", name))
    return r


def catalog(estimates: dict[str, int]) -> SourceCatalog:
    return SourceCatalog(
        "platform", "15.18", tuple(SourceTable("public", n, "r", e) for n, e in estimates.items())
    )


def test_complete_dump_matching_the_catalog_is_verified():
    verdict = judge(
        failures=[],
        report=report({"tenants": 6, "pageviews": 2000}),
        size_bytes=10_000,
        sha256="a" * 64,
        thresholds=THRESHOLDS,
        catalog=catalog({"tenants": 6, "pageviews": 2000}),
        dbname="platform",
    )
    assert verdict.verdict == "verified" and verdict.reasons == ()


def test_failures_win_over_everything_else():
    verdict = judge(
        failures=["pg_dump exited with status 1: permission denied for table secret"],
        report=None,
        size_bytes=0,
        sha256=None,
        thresholds=THRESHOLDS,
        content_problems=["empty"],
    )
    assert verdict.verdict == "failed" and "permission denied" in verdict.reasons[0]


def test_missing_tables_and_another_dbname_are_corrupt():
    verdict = judge(
        failures=[],
        report=report({"other": 5}, dbname="analytics"),
        size_bytes=100,
        sha256="a" * 64,
        thresholds=THRESHOLDS,
        catalog=catalog({"tenants": 6, "pageviews": 10}),
        dbname="platform",
    )
    assert verdict.verdict == "corrupt"
    assert verdict.reasons[0] == "the dump is of database 'analytics', not 'platform'"
    assert verdict.reasons[1] == "the dump lacks 2 of the source's 2 tables: public.pageviews, public.tenants"


def test_large_table_that_dumped_zero_rows_is_suspicious():
    verdict = judge(
        failures=[],
        report=report({"tenants": 6, "pageviews": 0}),
        size_bytes=100,
        sha256="a" * 64,
        thresholds=THRESHOLDS,
        catalog=catalog({"tenants": 6, "pageviews": 250_000}),
    )
    assert verdict.verdict == "suspicious"
    assert verdict.reasons == ("large table(s) dumped zero rows: public.pageviews (estimated 250,000 rows)",)


def test_small_or_unanalysed_empty_tables_are_not_suspicious():
    verdict = judge(
        failures=[],
        report=report({"tenants": 0, "leads": 0}),
        size_bytes=100,
        sha256="a" * 64,
        thresholds=THRESHOLDS,
        catalog=catalog({"tenants": 999, "leads": -1}),
    )
    assert verdict.verdict == "verified"


def test_size_drop_against_the_median_of_history_is_suspicious():
    history = [HistoryPoint(1_000_000, 10, T), HistoryPoint(1_100_000, 10, T), HistoryPoint(5, 10, T)]
    verdict = judge(
        failures=[],
        report=report({"tenants": 10}),
        size_bytes=400_000,
        sha256="a" * 64,
        thresholds=THRESHOLDS,
        history=history,
    )
    assert verdict.verdict == "suspicious"
    assert verdict.reasons[0].startswith(
        "the dump is 400,000 bytes, 60% smaller than the median of the last 3"
    )


def test_rows_drop_is_suspicious():
    history = [HistoryPoint(100, 1000, T)]
    verdict = judge(
        failures=[],
        report=report({"tenants": 10}),
        size_bytes=100,
        sha256="a" * 64,
        thresholds=THRESHOLDS,
        history=history,
    )
    assert verdict.verdict == "suspicious" and "fewer than the median" in verdict.reasons[0]


@given(usual=st.integers(1, 10**12), size=st.integers(0, 10**12), ratio=st.floats(0.01, 0.99))
def test_size_rule_flags_exactly_the_dumps_below_the_threshold(usual, size, ratio):
    thresholds = VerifyThresholds(size_drop_ratio=ratio, rows_drop_ratio=0.5)
    verdict = judge(
        failures=[],
        report=report({}),
        size_bytes=size,
        sha256="a" * 64,
        thresholds=thresholds,
        history=[HistoryPoint(usual, 0, T)],
    )
    assert (verdict.verdict == "suspicious") == (size < usual * (1 - ratio))


def test_unreadable_dump_reports_only_the_read_failure_not_missing_tables():
    r = report({"tenants": 2})
    r.returncode, r.complete, r.reading_data_of = 1, False, "public.pageviews"
    r.errors.append("could not uncompress data: incorrect data check")
    verdict = judge(
        failures=[],
        report=r,
        size_bytes=100,
        sha256="a" * 64,
        thresholds=THRESHOLDS,
        catalog=catalog({"tenants": 2, "pageviews": 5}),
    )
    assert verdict.verdict == "corrupt"
    assert verdict.reasons == (
        "pg_restore failed while reading the data of table public.pageviews: "
        "could not uncompress data: incorrect data check",
    )


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"sha256": "b" * 64}, "differs from the manifest's"),
        ({"rows": 7}, "row counts differ from the manifest: public.tenants (6 rows, manifest 7)"),
        ({"digest": "0" * 32}, "table contents differ from the manifest's digests: public.tenants"),
    ],
)
def test_dump_that_no_longer_matches_its_manifest_is_corrupt(change, reason):
    r = report({"tenants": 6})
    entry = TableEntry(
        rows=change.get("rows", 6), digest=change.get("digest", r.tables["public.tenants"].digest.hexdigest)
    )
    manifest = Manifest(
        database="platform",
        dump_key="k",
        format="custom",
        compression=6,
        server_version="15",
        pg_dump_version="15",
        started_at=T.isoformat(),
        finished_at=T.isoformat(),
        size_bytes=100,
        sha256=change.get("sha256", "a" * 64),
        tables={"public.tenants": entry},
        toc={},
        verdict="verified",
    )
    verdict = judge(
        failures=[], report=r, size_bytes=100, sha256="a" * 64, thresholds=THRESHOLDS, manifest=manifest
    )
    assert verdict.verdict == "corrupt" and any(reason in x for x in verdict.reasons)
