from datetime import UTC, datetime

import pytest

from reliability.buildsize.errors import BuildInfoInvalid, BuildNotFound, UnreadableFiles
from reliability.buildsize.measure import measure_files
from reliability.buildsize.sources import BuildInfo, S3Build, check_build_id, list_build_ids, newest_build_id
from reliability.buildsize.store import SizeCache


def upload(client, bucket, prefix, files):
    for path, content in files.items():
        client.put_object(Bucket=bucket, Key=prefix + path, Body=content)


def test_an_s3_build_lists_and_streams_its_objects(s3_client, s3_bucket):
    files = {
        "index.html": b"<html></html>",
        "static/js/main.3f2a1c9b.js": b"x" * 3_000_000,
        "static/ファイル ü.js": "console.log('ü')".encode(),
    }
    upload(s3_client, s3_bucket, "builds/web/42/", files)
    s3_client.put_object(Bucket=s3_bucket, Key="builds/web/42/static/", Body=b"")  # a folder marker
    upload(s3_client, s3_bucket, "builds/web/421/", {"other.js": b"not this build"})
    source = S3Build(s3_client, s3_bucket, "web", "42")
    listed = source.list_files()
    assert [(f.path, f.size) for f in listed] == sorted((p, len(c)) for p, c in files.items())
    assert all(isinstance(f.modified, datetime) for f in listed)
    big = next(f for f in listed if f.path.endswith("main.3f2a1c9b.js"))
    chunks = list(source.read_chunks(big, chunk_size=1 << 20))
    assert b"".join(chunks) == files["static/js/main.3f2a1c9b.js"] and len(chunks) == 3
    measured = measure_files(source, listed, SizeCache(), workers=1)
    assert {m.path: m.sizes.raw for m in measured.files} == {p: len(c) for p, c in files.items()}


def test_a_missing_s3_build_is_reported_with_its_prefix(s3_client, s3_bucket):
    with pytest.raises(BuildNotFound, match=rf"build 7 of web \(s3://{s3_bucket}/builds/web/7/\) does not"):
        S3Build(s3_client, s3_bucket, "web", "7").list_files()


def test_an_object_gone_after_listing_is_reported_unreadable(s3_client, s3_bucket):
    upload(s3_client, s3_bucket, "builds/web/9/", {"a.js": b"1", "b.js": b"2"})
    source = S3Build(s3_client, s3_bucket, "web", "9")
    listed = source.list_files()
    s3_client.delete_object(Bucket=s3_bucket, Key="builds/web/9/b.js")
    with pytest.raises(UnreadableFiles, match=r"1 file\(s\) of build 9 of web .*b\.js: NoSuchKey"):
        measure_files(source, listed, SizeCache())


def test_the_newest_build_is_the_last_in_natural_order(s3_client, s3_bucket):
    for build_id in ("9", "10", "100", "2026.1.5-2", "2026.1.5-10"):
        upload(s3_client, s3_bucket, f"builds/web/{build_id}/", {"a.js": b"1"})
    upload(s3_client, s3_bucket, "builds/admin/999/", {"a.js": b"1"})
    assert list_build_ids(s3_client, s3_bucket, "web") == ["9", "10", "100", "2026.1.5-2", "2026.1.5-10"]
    assert newest_build_id(s3_client, s3_bucket, "web") == "2026.1.5-10"
    with pytest.raises(BuildNotFound, match=r"no builds of mobile under s3://.*/builds/mobile/"):
        newest_build_id(s3_client, s3_bucket, "mobile")


@pytest.mark.parametrize("build_id", ["", "../etc", "a/b", ".hidden", "x" * 200])
def test_build_ids_must_be_one_safe_path_segment(build_id):
    with pytest.raises(ValueError, match="is not valid"):
        check_build_id(build_id)


def test_build_info_gives_branch_commit_and_time():
    content = b'{"branch": "main", "commit": "abc", "created_at": "2026-01-05T09:00:00Z", "x": 1}'
    info = BuildInfo.parse(content, "build-info.json")
    assert info == BuildInfo("main", "abc", datetime(2026, 1, 5, 9, tzinfo=UTC))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"{not json", "is not valid JSON"),
        (b"[1]", "must hold a JSON object"),
        (b'{"created_at": "yesterday"}', "is not an ISO 8601 time"),
        (b'{"branch": 5}', "'branch' must be a string"),
    ],
)
def test_invalid_build_info_is_reported(content, message):
    with pytest.raises(BuildInfoInvalid, match=message):
        BuildInfo.parse(content, "build-info.json of build 1")
