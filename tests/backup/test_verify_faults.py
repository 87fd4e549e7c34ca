"""Damaged and wrong dumps, read back with the real pg_restore: each one corrupt, with the reason."""

import pytest

from reliability.backup.catalog import read_catalog
from reliability.backup.config import VerifyThresholds
from reliability.backup.verdict import judge
from reliability.backup.verify import read_dump_object, read_dump_path
from tests.backup.conftest import unique
from tests.backup.faults import flipped, pg_dump_file, truncated


@pytest.fixture(scope="module")
def source_catalog(source_dsn):
    return read_catalog(source_dsn)


def verdict_of(read, source_catalog):
    return judge(
        failures=[read.read_error] if read.read_error else [],
        report=read.report,
        size_bytes=read.size_bytes,
        sha256=read.sha256,
        thresholds=VerifyThresholds(),
        catalog=source_catalog,
        dbname=source_catalog.dbname,
        content_problems=read.content_problems,
    )


def data_region(dsn, dump, tmp_path):
    """Offsets inside the dump's compressed data blocks: after the header and TOC, before the end."""
    toc_only = pg_dump_file(dsn, tmp_path / "schema.dump", "--schema-only").stat().st_size
    return toc_only + 4096, dump.stat().st_size - 64


def test_good_dump_is_verified_with_exact_rows(custom_dump, source_catalog, source_dsn):
    import psycopg

    read = read_dump_path(custom_dump)
    assert verdict_of(read, source_catalog).verdict == "verified"
    with psycopg.connect(source_dsn) as conn:
        pageviews = conn.execute("SELECT count(*) FROM pageviews").fetchone()[0]
    assert read.report.tables["public.pageviews"].digest.rows == pageviews
    assert read.report.dbname == source_catalog.dbname and read.format == "custom"


@pytest.mark.parametrize("fraction", [0.0005, 0.02, 0.3, 0.6, 0.9, 0.999])
def test_truncated_dump_is_reported_corrupt(custom_dump, source_catalog, tmp_path, fraction):
    size = max(1, int(custom_dump.stat().st_size * fraction))
    verdict = verdict_of(read_dump_path(truncated(custom_dump, size, tmp_path / "t.dump")), source_catalog)
    assert verdict.verdict == "corrupt"
    assert "end of file" in verdict.reasons[0] or "stopped before the end" in verdict.reasons[0]


def test_dump_missing_only_its_last_byte_is_corrupt(custom_dump, source_catalog, tmp_path):
    cut = truncated(custom_dump, custom_dump.stat().st_size - 1, tmp_path / "t.dump")
    assert verdict_of(read_dump_path(cut), source_catalog).verdict == "corrupt"


@pytest.mark.parametrize("position", [0.1, 0.5, 0.9])
def test_flipped_byte_in_compressed_data_is_reported_corrupt(
    custom_dump, source_dsn, source_catalog, tmp_path, position
):
    start, end = data_region(source_dsn, custom_dump, tmp_path)
    offset = int(start + (end - start) * position)
    verdict = verdict_of(read_dump_path(flipped(custom_dump, offset, tmp_path / "f.dump")), source_catalog)
    assert verdict.verdict == "corrupt"
    assert verdict.reasons[0].startswith("pg_restore failed while reading the data of table public.")


def test_zero_byte_file_is_corrupt(tmp_path, source_catalog):
    empty = tmp_path / "empty.dump"
    empty.write_bytes(b"")
    verdict = verdict_of(read_dump_path(empty), source_catalog)
    assert verdict.verdict == "corrupt" and "is empty (0 bytes)" in verdict.reasons[0]


def test_file_that_is_not_a_dump_is_corrupt(tmp_path, source_catalog):
    notes = tmp_path / "notes.dump"
    notes.write_text("-- just some SQL\nSELECT 1;\n" * 100)
    verdict = verdict_of(read_dump_path(notes), source_catalog)
    assert verdict.verdict == "corrupt" and "is not a PostgreSQL dump" in verdict.reasons[0]


def test_tar_that_is_not_a_directory_dump_is_corrupt(tmp_path, source_catalog):
    import tarfile

    (tmp_path / "readme.txt").write_text("hello")
    with tarfile.open(tmp_path / "x.tar", "w") as tar:
        tar.add(tmp_path / "readme.txt", arcname="readme.txt")
    verdict = verdict_of(read_dump_path(tmp_path / "x.tar"), source_catalog)
    assert verdict.verdict == "corrupt" and "without a toc.dat" in verdict.reasons[0]


def test_dump_of_another_database_is_corrupt(pg_cluster, source_catalog, tmp_path):
    import psycopg

    other = unique("bk_other")
    dsn = pg_cluster.create_database(other)
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE invoices (id int PRIMARY KEY, total numeric)")
        conn.execute("INSERT INTO invoices SELECT g, g * 1.5 FROM generate_series(1, 100) g")
    dump = pg_dump_file(dsn, tmp_path / "other.dump")
    read = read_dump_path(dump)
    assert read.report.problems() == []  # a perfectly readable dump...
    verdict = verdict_of(read, source_catalog)  # ...of the wrong database
    assert verdict.verdict == "corrupt"
    assert verdict.reasons[0] == f"the dump is of database {other!r}, not {source_catalog.dbname!r}"
    assert verdict.reasons[1].startswith(f"the dump lacks {len(source_catalog.tables)} of the source's")


def test_damaged_object_in_s3_is_corrupt_when_streamed(custom_dump, source_catalog, s3_client, s3_bucket):
    data = custom_dump.read_bytes()
    s3_client.put_object(Bucket=s3_bucket, Key="backups/platform/cut.dump", Body=data[: len(data) // 2])
    verdict = verdict_of(read_dump_object(s3_client, s3_bucket, "backups/platform/cut.dump"), source_catalog)
    assert verdict.verdict == "corrupt" and "end of file" in verdict.reasons[0]


def test_missing_object_is_a_failure_not_corruption(s3_client, s3_bucket, source_catalog):
    verdict = verdict_of(read_dump_object(s3_client, s3_bucket, "backups/platform/none.dump"), source_catalog)
    assert verdict.verdict == "failed" and "NoSuchKey" in verdict.reasons[0]


def test_sql_text_that_looks_like_a_copy_block_is_not_taken_for_data(pg_cluster, tmp_path):
    import psycopg

    dsn = pg_cluster.create_database(unique("bk_lookalike"))
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE notes (id int)")
        conn.execute("INSERT INTO notes VALUES (1), (2)")
        # A multi-line comment puts a line that starts with COPY and ends with FROM stdin; into the script.
        conn.execute(
            "COMMENT ON TABLE notes IS E'how to load:\\nCOPY public.notes (id) FROM stdin;\\nthat is all'"
        )
    read = read_dump_path(pg_dump_file(dsn, tmp_path / "lookalike.dump"))
    assert read.report.problems() == []
    assert read.report.tables["public.notes"].digest.rows == 2
