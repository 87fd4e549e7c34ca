import pytest
from hypothesis import given
from hypothesis import strategies as st

from reliability.buildsize.normalise import DEFAULT_NAME_PATTERNS, compile_patterns, normalise

PATTERNS = compile_patterns(DEFAULT_NAME_PATTERNS)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("main.3f2a1c9b.js", "main.[hash].js"),
        ("static/js/2.7f3a9c1d.chunk.js", "static/js/2.[hash].chunk.js"),
        ("static/css/main.3f2a1c9bdeadbeef.css", "static/css/main.[hash].css"),
        ("static/js/main.3f2a1c9b.js.map", "static/js/main.[hash].js.map"),
        ("assets/index-BdX3kq9P.js", "assets/index-[hash].js"),
        ("assets/vendor-a1b2_C-d.js", "assets/vendor-[hash].js"),
        ("chunk-WBQ7GZHE.js", "chunk-[hash].js"),
        ("app-3f2a1c9b.css", "app-[hash].css"),
        ("static/0123456789abcdef0123/main.js", "static/[hash]/main.js"),
    ],
)
def test_hashed_names_get_a_hash_placeholder(name, expected):
    assert normalise(name, PATTERNS) == expected


@pytest.mark.parametrize(
    "name",
    [
        "index.html",
        "favicon.ico",
        "icon-settings.svg",
        "icon-download.svg",
        "jquery-3.6.0.min.js",
        "robots.txt",
        "static/media/Inter-Regular.woff2",
        "polyfills-es2015.js",
        "ünïcode/ファイル.js",
    ],
)
def test_names_without_a_hash_are_kept(name):
    assert normalise(name, PATTERNS) == name


HEX = st.text("0123456789abcdef", min_size=8, max_size=20)


@given(HEX, HEX)
def test_the_same_bundle_gets_the_same_name_whatever_its_hash(first, second):
    name = normalise(f"static/js/main.{first}.js", PATTERNS)
    assert name == normalise(f"static/js/main.{second}.js", PATTERNS) == "static/js/main.[hash].js"


@given(st.from_regex(r"[a-zA-Z0-9_./-]{1,40}", fullmatch=True))
def test_normalising_twice_changes_nothing(name):
    once = normalise(name, PATTERNS)
    assert normalise(once, PATTERNS) == once


def test_a_custom_pattern_replaces_only_its_hash_group():
    patterns = compile_patterns([r"_v(?P<hash>\d+)_"])
    assert normalise("lib_v12_core.js", patterns) == "lib_v[hash]_core.js"


def test_a_pattern_without_a_hash_group_is_refused():
    with pytest.raises(ValueError, match=r"no named group \(\?P<hash>"):
        compile_patterns([r"[0-9a-f]{8}"])


def test_a_pattern_that_is_not_a_regex_is_refused():
    with pytest.raises(ValueError, match="not a valid regular expression"):
        compile_patterns([r"(?P<hash>[0-9a-f"])
