import gzip
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import brotli
import pytest

from reliability.buildsize.errors import BuildNotFound, UnreadableFiles
from reliability.buildsize.measure import FileChanged, compress_sizes, measure_files
from reliability.buildsize.sizes import Sizes
from reliability.buildsize.sources import LocalBuild
from reliability.buildsize.store import SizeCache
from stack.demo_builds import javascript

ROOT = Path(__file__).resolve().parents[2]


def measure(folder, cache=None, **kwargs):
    source = LocalBuild(folder, "web")
    return measure_files(source, source.list_files(), cache if cache is not None else SizeCache(), **kwargs)


def expected(content: bytes) -> Sizes:
    return Sizes(
        len(content), len(gzip.compress(content, 9, mtime=0)), len(brotli.compress(content, quality=11))
    )


def test_sizes_are_raw_gzip_level_9_and_brotli_quality_11(tmp_path, write_build):
    files = {"main.js": javascript(1, 40_000), "empty.txt": b"", "logo.bin": os.urandom(5000)}
    result = measure(write_build(tmp_path / "b", files))
    assert {m.path: m.sizes for m in result.files} == {path: expected(c) for path, c in files.items()}


def test_streamed_sizes_equal_one_shot_sizes(tmp_path):
    content = javascript(7, 600_000)
    path = tmp_path / "big.js"
    path.write_bytes(content)
    _, sizes = compress_sizes(str(path), chunk_size=64 * 1024)
    assert sizes == expected(content)


def test_unchanged_files_are_not_compressed_again(tmp_path, write_build, results_conn):
    shared = {f"static/js/{i}.chunk.js": javascript(i, 20_000) for i in range(6)}
    first = write_build(tmp_path / "1001", {**shared, "static/js/main.js": javascript(100, 30_000)})
    second = write_build(tmp_path / "1002", {**shared, "static/js/main.js": javascript(100, 31_000)})

    a = measure(first, SizeCache(results_conn), workers=2)
    assert (a.stats.cache_hits, a.stats.compressed_files) == (0, 7)
    # A fresh cache object on the same store: the hits come from the results store, not from memory.
    b = measure(second, SizeCache(results_conn), workers=2)
    assert (b.stats.cache_hits, b.stats.compressed_files, b.stats.compressed_bytes) == (6, 1, 31_000)
    assert {m.path: m.sizes for m in b.files} == {m.path: m.sizes for m in measure(second).files}
    stored = results_conn.execute("SELECT count(*) FROM reliability.build_size_cache").fetchone()[0]
    assert stored == 8


def test_identical_files_in_one_build_are_compressed_once(tmp_path, write_build):
    same = javascript(3, 10_000)
    result = measure(write_build(tmp_path / "b", {"a/x.js": same, "b/x.js": same, "c.js": b"other"}))
    assert result.stats.compressed_files == 2
    assert result.files[0].sizes == result.files[1].sizes == expected(same)


def test_a_build_of_thousands_of_files_is_measured_and_then_served_from_the_cache(tmp_path, write_build):
    files = {
        f"static/js/chunk-{i:04d}.{i:08x}.js": f"export const v{i}={i};".encode() * (10 + i % 50)
        for i in range(3000)
    }
    folder = write_build(tmp_path / "many", files)
    cache = SizeCache()
    first = measure(folder, cache, workers=2)
    assert first.stats.files == 3000 and first.stats.compressed_files == 3000 and first.stats.workers == 2
    assert first.files[1234].sizes == expected(files[first.files[1234].path])
    again = measure(folder, cache, workers=2)
    assert again.stats.cache_hits == 3000 and again.stats.compressed_files == 0


def test_unicode_file_names_are_measured(tmp_path, write_build):
    files = {"static/ファイル.3f2a1c9b.js": b"console.log('\xe3\x81\x93')", "Ünïcödé/naïve café.css": b"a{}"}
    result = measure(write_build(tmp_path / "b", files))
    assert sorted(m.path for m in result.files) == sorted(files)


@pytest.mark.timeout(60)  # opening a FIFO blocks forever unless the reader guards against it
def test_unreadable_files_are_all_named_with_their_reason(tmp_path, write_build):
    # The suite runs as root, for whom chmod 000 changes nothing; a dangling symlink, a FIFO and a link
    # to a folder are files root cannot read as files either, and exercise the same error path.
    folder = write_build(tmp_path / "b", {"ok.js": b"fine", "sub/keep.css": b"a{}"})
    (folder / "dangling.js").symlink_to(folder / "does-not-exist.js")
    os.mkfifo(folder / "pipe.js")
    (folder / "linked").symlink_to(tmp_path)
    with pytest.raises(UnreadableFiles) as caught:
        measure(folder)
    problems = dict(caught.value.problems)
    assert set(problems) == {"dangling.js", "pipe.js", "linked"}
    assert problems["dangling.js"].startswith("broken symbolic link")
    assert problems["pipe.js"] == "not a regular file (FIFO)"
    assert problems["linked"].startswith("is a folder")
    assert "3 file(s) of build b of web" in str(caught.value)


def test_a_file_replaced_by_a_folder_after_listing_is_unreadable(tmp_path, write_build):
    folder = write_build(tmp_path / "b", {"a.js": b"1", "b.js": b"2"})
    source = LocalBuild(folder, "web")
    files = source.list_files()
    (folder / "b.js").unlink()
    (folder / "b.js").mkdir()
    with pytest.raises(UnreadableFiles, match=r"b\.js: is a folder"):
        measure_files(source, files, SizeCache())


def test_a_file_that_changes_between_hashing_and_compressing_is_reported(tmp_path, write_build):
    class Changing(LocalBuild):
        def read_chunks(self, file, chunk_size=1 << 20):
            # What the hashing pass saw differs from what the compressing pass will read.
            yield b"the bytes before CI finished writing"

    folder = write_build(tmp_path / "b", {"main.js": b"final content"})
    source = Changing(folder, "web")
    with pytest.raises(FileChanged, match=r"main\.js of build b of web in .* changed while it was being"):
        measure_files(source, source.list_files(), SizeCache())


def test_a_missing_build_folder_is_reported(tmp_path):
    with pytest.raises(BuildNotFound, match=r"does-not-exist does not exist"):
        LocalBuild(tmp_path / "does-not-exist", "web")


def test_a_file_of_several_hundred_mb_is_streamed_with_bounded_memory(tmp_path):
    # 300 MB of zeros as a sparse file: costs no disk, and brotli gets through zeros fast, so the test
    # is about streaming (memory stays far below the file size), not about compression speed.
    folder = tmp_path / "big"
    folder.mkdir()
    with open(folder / "huge.wasm", "wb") as handle:
        handle.truncate(300 * 1000 * 1000)
    script = textwrap.dedent(f"""
        import sys
        sys.path[:0] = {[str(ROOT / "include"), str(ROOT)]!r}
        from reliability.buildsize.measure import measure_files
        from reliability.buildsize.sources import LocalBuild
        from reliability.buildsize.store import SizeCache
        source = LocalBuild({str(folder)!r}, "web")
        (m,) = measure_files(source, source.list_files(), SizeCache(), workers=1).files
        # The child's own peak (VmHWM starts afresh at exec); ru_maxrss from wait4 would include the
        # RSS of the test process it was forked from.
        hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
        print(m.sizes.raw, m.sizes.gzip, m.sizes.brotli, hwm_kb)
    """)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert child.returncode == 0, child.stderr[-2000:]
    raw, gz, br, hwm_kb = map(int, child.stdout.split())
    assert raw == 300_000_000
    assert 0 < br < gz < raw // 500  # zeros compress by a factor of ~1000 (gzip) and far more (brotli)
    max_rss_bytes = hwm_kb * 1024
    assert max_rss_bytes < 150 * 1024 * 1024, f"peak memory {max_rss_bytes} bytes: the file was not streamed"
